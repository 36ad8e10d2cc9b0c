import Foundation

/// Prints rows as columns padded to their widest cell, the first row being the header (`keys list`, `voices list`).
enum TextTable {
    static func print(_ rows: [[String]]) {
        guard let header = rows.first else { return }
        let widths = header.indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
        for row in rows {
            Swift.print(row.enumerated().map { i, cell in cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }
}
