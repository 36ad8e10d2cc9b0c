// The .env parser on arbitrary text, and the configuration read from what it finds: a bad value is a
// ConfigError (one line at startup), never a trap.
import FuzzDriver
#if FUZZING
@testable import VoiceGateCore

fuzz { data, count in
    let text = String(decoding: bytes(data, count), as: UTF8.self)
    let values = DotEnv.parse(text)
    for key in values.keys where key.isEmpty || key.contains("=") { violated("parsed the key \(key.debugDescription)") }
    do {
        _ = try GatewayConfig.from(values)
    } catch is ConfigError {
    } catch {
        violated("configuration failed with \(error), not a ConfigError")
    }
    return 0
}
#else
fuzz { _, _ in 0 }
#endif
