/// Fixed-point decimal text for headers and log lines, without Foundation's `String(format:)` (which goes
/// through NSString on every request).
public enum DecimalText {
    /// `value` rounded to `places` decimals, like `%.Nf`; `trimmingZeros` drops trailing zeros and a bare point.
    public static func format(_ value: Double, places: Int, trimmingZeros: Bool = false) -> String {
        guard value.isFinite else { return "0" }
        var scale = 1
        for _ in 0..<places { scale *= 10 }
        let scaled = Int((abs(value) * Double(scale)).rounded())
        let sign = value < 0 && scaled != 0 ? "-" : ""
        guard places > 0 else { return "\(sign)\(scaled)" }
        var fraction = String(scaled % scale)
        fraction = String(repeating: "0", count: places - fraction.count) + fraction
        if trimmingZeros {
            while fraction.hasSuffix("0") { fraction.removeLast() }
        }
        return fraction.isEmpty ? "\(sign)\(scaled / scale)" : "\(sign)\(scaled / scale).\(fraction)"
    }
}
