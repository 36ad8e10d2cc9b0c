import Foundation
import Hummingbird
import SovitsDouble

// A stand-alone GPT-SoVITS api_v2 double for benchmarks and manual runs:
//   sovits-double [port] [inference-delay-ms] [tone]
// Its audio is silence unless `tone` is given (encoders work less on silence than on sound).
let arguments = CommandLine.arguments
let port = arguments.count > 1 ? Int(arguments[1]) ?? 9880 : 9880
var options = SovitsDoubleOptions()
options.inferenceDelay = .milliseconds(arguments.count > 2 ? Int(arguments[2]) ?? 0 : 0)
options.silentOutput = arguments.count > 3 ? arguments[3] != "tone" : true
options.keepsRecords = false
let double = SovitsDouble(options: options)
let app = Application(router: double.makeRouter(), configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
