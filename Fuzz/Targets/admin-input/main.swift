// What an admin or a client sends to the key and history routes: a JSON body for POST/PATCH keys (first byte
// even) or a history query string (odd). Bad input is a GatewayError 400, never a trap; what is accepted is
// within the documented ranges.
import FuzzDriver
#if FUZZING
import Foundation
@testable import VoiceGateCore

fuzz { data, count in
    let input = bytes(data, count)
    guard let mode = input.first else { return 0 }
    let rest = Data(input.dropFirst())
    do {
        if mode % 2 == 0 {
            let body = try JSONBody(rest)
            let (name, _, limits) = try KeysController.creation(body)
            try KeyAdministration.check(name: name)
            try KeyAdministration.check(limits)
            if !KeyRecord.isValidName(name) { violated("accepted the name \(name.debugDescription)") }
            _ = try KeysController.change(body)
        } else {
            let query = try HistoryController.query(string: String(decoding: rest, as: UTF8.self))
            if !(1...HistoryController.maxLimit).contains(query.limit) { violated("accepted limit \(query.limit)") }
            if let before = query.before, before <= 0 { violated("accepted cursor \(before)") }
            if let worker = query.worker, !WorkerSpec.isValidName(worker) { violated("accepted the worker \(worker.debugDescription)") }
        }
    } catch let error as GatewayError {
        if error.statusCode != 400 { violated("answered \(error.statusCode) to bad input") }
    } catch {
        violated("failed with \(error), not a GatewayError")
    }
    return 0
}
#else
fuzz { _, _ in 0 }
#endif
