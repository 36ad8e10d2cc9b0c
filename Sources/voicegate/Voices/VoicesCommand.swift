import ArgumentParser
import Foundation
import VoiceGateCore

/// `voicegate voices ...`: saved voices on the store and reference folder directly (also while a server runs; it
/// reads voices from the store on each request).
struct VoicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "voices",
        abstract: "Add, list and remove saved voices (also while the gateway runs).",
        subcommands: [Add.self, List.self, Remove.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Save a recording (3-10 s, wav/mp3/flac/ogg) with its transcript as a voice.")
        @Argument(help: "The voice's name: 1-64 letters, digits, _ or -.") var name: String
        @Argument(help: "The recording.") var file: String
        @Option(help: "What the recording says, word for word.") var promptText: String
        @Option(help: "The recording's language (zh, en, ja, ko, yue, auto, ...).") var language: String?
        @Option(help: "A note shown in lists.") var description: String?
        @Option(help: "GPT weights to speak it with: a path on the GPU servers, as /set_gpt_weights takes it.") var gptWeights: String?
        @Option(help: "SoVITS weights to speak it with: a path on the GPU servers, as /set_sovits_weights takes it.") var sovitsWeights: String?
        @Option(help: "The key the voice belongs to.") var owner = KeyRecord.defaultName
        @Flag(help: "Only its owner (and admins) may use it; otherwise every key may.") var `private` = false
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let voice = try await store.withLibrary { db, library, limits in
                try await KeysCommand.perform {
                    // A store no gateway has started on yet has no `default` key row; the voice is still its.
                    guard let owner = try await db.key(named: owner) ?? (owner == KeyRecord.defaultName ? .cliAdmin : nil) else {
                        throw GatewayError.invalid("unknown_key", "there is no key named \(owner) (voicegate keys list)")
                    }
                    let draft = try VoiceLibrary.draft(name: name, promptText: promptText, promptLanguage: language, description: description,
                                                       shared: self.private ? "false" : "true", gptWeights: gptWeights,
                                                       sovitsWeights: sovitsWeights, by: owner.role == .admin ? owner : .cliAdmin)
                    let reference = try library.importRecording(atPath: file, limits: limits)
                    return try await library.create(draft, reference: reference, owner: owner)
                }
            }
            print("saved voice \(voice.name): \(voice.info.format.rawValue), \(DecimalText.format(voice.info.duration, places: 2)) s, "
                  + "\(voice.promptLanguage), \(voice.shared ? "shared" : "private to \(voice.owner)")")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every saved voice: owner, sharing, length, language, transcript.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let (voices, aliases) = try await store.withLibrary { _, library, _ in (try await library.store.voices(), library.aliases) }
            let rows = [["NAME", "OWNER", "SHARED", "SECONDS", "LANGUAGE", "ALIASES", "TRANSCRIPT"]] + voices.map { v in
                [v.name, v.owner, v.shared ? "yes" : "no", DecimalText.format(v.info.duration, places: 2), v.promptLanguage,
                 aliases.aliases(of: v.name).joined(separator: ",").ifEmpty("-"), String(v.promptText.prefix(60))]
            }
            TextTable.print(rows)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a voice (a request already using it finishes).")
        @Argument var name: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await store.withLibrary { _, library, _ in try await KeysCommand.perform { try await library.delete(name, by: .cliAdmin) } }
            print("removed voice \(name)")
        }
    }
}

extension String {
    func ifEmpty(_ replacement: String) -> String { isEmpty ? replacement : self }
}

extension KeyRecord {
    /// The operator at the command line acts as an admin.
    static let cliAdmin = KeyRecord(name: KeyRecord.defaultName, role: .admin, keyHash: "")
}
