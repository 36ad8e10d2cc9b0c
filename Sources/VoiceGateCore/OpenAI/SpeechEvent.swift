import Foundation
import NIOCore

/// The server-sent events of `stream_format=sse`, each framed `data: <json>\n\n` as OpenAI and its peers send them.
enum SpeechEvent {
    static func delta(_ audio: ByteBuffer) -> ByteBuffer {
        frame(["type": .string("speech.audio.delta"), "audio": .string(Data(audio.readableBytesView).base64EncodedString())])
    }

    static func done(inputTokens: Int) -> ByteBuffer {
        frame(["type": .string("speech.audio.done"),
               "usage": .object(["input_tokens": .int(inputTokens), "output_tokens": .int(0), "total_tokens": .int(inputTokens)])])
    }

    static func error(_ error: GatewayError) -> ByteBuffer {
        frame(["type": .string("error"),
               "error": .object(["message": .string(error.message), "type": .string(error.openAIType), "code": .string(error.code),
                                 "param": error.param.map { .string($0) } ?? .null])])
    }

    private static func frame(_ event: [String: JSONValue]) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes((try? encoder.encode(JSONValue.object(event))) ?? Data("{}".utf8))
        buffer.writeString("\n\n")
        return buffer
    }
}
