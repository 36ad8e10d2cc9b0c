import Foundation
import SQLKit

extension SQLGatewayStore {
    static let voiceColumns = ["name", "owner", "shared", "file_name", "format", "duration", "sample_rate", "channels", "prompt_text",
                               "prompt_language", "description", "created_at", "gpt_weights", "sovits_weights"]

    func voices() async throws -> [VoiceRecord] {
        try await db.select().column("*").from("voices").orderBy("name").all().map(Self.voice)
    }

    func voice(named name: String) async throws -> VoiceRecord? {
        try await db.select().column("*").from("voices").where("name", .equal, name).first().map(Self.voice)
    }

    func insertVoice(_ v: VoiceRecord) async throws {
        let values: [any Encodable & Sendable] = [v.name, v.owner, v.shared, v.fileName, v.info.format.rawValue, v.info.duration,
                                                  v.info.sampleRate, v.info.channels, v.promptText, v.promptLanguage, v.description,
                                                  Self.millis(v.createdAt), v.weights?.gpt, v.weights?.sovits]
        let binds = values.map { SQLBind($0) }
        let inserted = try await backend.write { db in
            try await db.insert(into: "voices").columns(Self.voiceColumns).values(binds).ignoringConflicts().returning("name").all()
        }
        if inserted.isEmpty { throw StoreError.exists("a voice named \(v.name)") }
    }

    func setVoiceShared(_ name: String, shared: Bool) async throws -> Bool {
        try await backend.write { db in
            !(try await db.update("voices").set("shared", to: shared).where("name", .equal, name).returning("name").all()).isEmpty
        }
    }

    func deleteVoice(named name: String) async throws -> VoiceRecord? {
        try await backend.write { db in
            try await db.delete(from: "voices").where("name", .equal, name).returning("*").first().map(Self.voice)
        }
    }

    func voiceCount(usingFile fileName: String) async throws -> Int {
        let row = try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("voices")
            .where("file_name", .equal, fileName).first()
        return try row?.decode(column: "n", as: Int.self) ?? 0
    }

    private static func voice(_ row: any SQLRow) throws -> VoiceRecord {
        let format = try row.decode(column: "format", as: String.self)
        return VoiceRecord(
            name: try row.decode(column: "name", as: String.self),
            owner: try row.decode(column: "owner", as: String.self),
            shared: try row.decode(column: "shared", as: Bool.self),
            fileName: try row.decode(column: "file_name", as: String.self),
            info: AudioInfo(format: AudioFormat(rawValue: format) ?? .wav, duration: try row.decode(column: "duration", as: Double.self),
                            sampleRate: try row.decode(column: "sample_rate", as: Int.self),
                            channels: try row.decode(column: "channels", as: Int.self)),
            promptText: try row.decode(column: "prompt_text", as: String.self),
            promptLanguage: try row.decode(column: "prompt_language", as: String.self),
            description: try row.decode(column: "description", as: String.self),
            createdAt: date(try row.decode(column: "created_at", as: Int64.self)),
            weights: ModelWeights.pair(gpt: try row.decode(column: "gpt_weights", as: String?.self),
                                       sovits: try row.decode(column: "sovits_weights", as: String?.self)))
    }
}
