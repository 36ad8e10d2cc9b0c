import Foundation

/// Saved voices: created once from a checked recording, listed and resolved for a key, removed with their file when
/// nothing needs it any more. The one implementation behind the HTTP routes, the CLI and the console.
public struct VoiceLibrary: Sendable {
    /// The voices' part of the reference folder: only voices keep files there, so removing one touches no upload.
    public static let subfolder = "voices"

    public let store: any VoiceStore
    /// Content-addressed like uploads, in `REF_DIR/voices`.
    public let files: ReferenceStore
    public let referenceDirectory: String
    public let aliases: VoiceAliases
    public let pins: ReferencePins

    public init(store: any VoiceStore, referenceDirectory: String, aliases: VoiceAliases = .init(), pins: ReferencePins = .init(),
                watch: StorageWatch = StorageWatch()) {
        self.store = store
        self.referenceDirectory = referenceDirectory
        files = ReferenceStore(directory: referenceDirectory + "/" + Self.subfolder, watch: watch)
        self.aliases = aliases
        self.pins = pins
    }

    public func prepare() -> String? { files.prepare() }

    /// What a new voice says about itself, before its recording is stored.
    public struct Draft: Sendable {
        public var name: String
        public var promptText: String
        public var promptLanguage: String
        public var description: String
        public var shared: Bool
        public var weights: ModelWeights?
    }

    /// Checks a new voice's fields (all of them, before its recording is kept).
    public static func draft(name: String?, promptText: String?, promptLanguage: String?, description: String?, shared: String?,
                             gptWeights: String? = nil, sovitsWeights: String? = nil, by key: KeyRecord) throws -> Draft {
        guard let name = name?.trimmingCharacters(in: .whitespaces), !name.isEmpty else {
            throw GatewayError.invalid("missing_name", "name is required: 1-64 letters, digits, _ or -", param: "name")
        }
        guard VoiceRecord.isValidName(name) else {
            throw GatewayError.invalid("invalid_name", "a voice name is 1-64 letters, digits, _ or -", param: "name")
        }
        let prompt = promptText?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard !prompt.isEmpty else {
            throw GatewayError.invalid("missing_prompt_text", "prompt_text, the transcript of the recording, is required: GPT-SoVITS clones from it",
                                       param: "prompt_text")
        }
        guard prompt.count <= SynthesisFields.maxPromptLength else {
            throw GatewayError.invalid("prompt_text_too_long", "prompt_text is \(prompt.count) characters; at most \(SynthesisFields.maxPromptLength) are allowed",
                                       param: "prompt_text")
        }
        let language = try SynthesisFields.language(promptLanguage, field: "prompt_language") ?? "auto"
        let description = description?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard description.count <= VoiceRecord.maxDescriptionLength else {
            throw GatewayError.invalid("description_too_long", "description may be at most \(VoiceRecord.maxDescriptionLength) characters",
                                       param: "description")
        }
        let isShared: Bool
        switch shared?.trimmingCharacters(in: .whitespaces).lowercased() {
        case nil, "", "false", "0", "no", "off": isShared = false
        case "true", "1", "yes", "on": isShared = true
        default: throw GatewayError.invalid("invalid_shared", "shared must be true or false", param: "shared")
        }
        if isShared, key.role != .admin {
            throw GatewayError(403, "forbidden", "only an admin key can share a voice")
        }
        let weights = try Self.weights(gpt: gptWeights, sovits: sovitsWeights, by: key)
        return Draft(name: name, promptText: prompt, promptLanguage: language, description: description, shared: isShared, weights: weights)
    }

    /// A voice's model weights: paths on the GPU servers, which load them with torch (a checkpoint can run code
    /// there), so only an admin names them; both or neither.
    static func weights(gpt: String?, sovits: String?, by key: KeyRecord) throws -> ModelWeights? {
        guard gpt != nil || sovits != nil else { return nil }
        guard let gpt, let sovits else {
            throw GatewayError.invalid("incomplete_weights", "give both gpt_weights and sovits_weights, or neither",
                                       param: gpt == nil ? "gpt_weights" : "sovits_weights")
        }
        for (field, path) in [("gpt_weights", gpt), ("sovits_weights", sovits)] {
            // As the OpenAPI document says it (maxLength counts code points; a blank path is no path).
            let blank = path.trimmingCharacters(in: CharacterSet.whitespacesAndNewlines.union(["\u{FEFF}"])).isEmpty
            guard !blank, path.unicodeScalars.count <= 1024,
                  !path.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw GatewayError.invalid("invalid_weights", "\(field) must be a path of at most 1024 characters, not blank, without control characters",
                                           param: field)
            }
        }
        guard key.role == .admin else {
            throw GatewayError(403, "forbidden", "only an admin key can name model weights (the GPU servers load them as code)")
        }
        return ModelWeights(gpt: gpt, sovits: sovits)
    }

    /// Saves a voice whose recording is already stored in `files`.
    public func create(_ draft: Draft, reference: StoredReference, owner: KeyRecord) async throws -> VoiceRecord {
        let voice = VoiceRecord(name: draft.name, owner: owner.name, shared: draft.shared, fileName: Self.subfolder + "/" + reference.fileName,
                                info: reference.info, promptText: draft.promptText, promptLanguage: draft.promptLanguage,
                                description: draft.description, createdAt: Date(), weights: draft.weights)
        pins.keep(voice.fileName)
        do {
            try await store.insertVoice(voice)
        } catch let error as StoreError {
            await removeFileIfUnused(voice)
            if case .exists = error {
                throw GatewayError(409, "voice_exists", "a voice named \(draft.name) already exists", param: "name")
            }
            throw GatewayError(503, "store_unavailable", "the voice could not be saved: \(error)")
        }
        return voice
    }

    /// Stores a local recording (the CLI's and the console's file) in `files` with the upload's checks.
    public func importRecording(atPath path: String, limits: ReferenceLimits) throws -> StoredReference {
        try files.importFile(atPath: path, limits: limits)
    }

    /// The voices `key` may use, by name; nil is a caller without a key (`PUBLIC_VOICE_LIST`): shared voices only.
    public func usable(by key: KeyRecord?) async throws -> [VoiceRecord] {
        let all = try await store.voices()
        guard let key else { return all.filter(\.shared) }
        return all.filter { $0.isUsable(by: key) }
    }

    /// The names a caller may send as `voice`: its voices and the aliases that lead to them.
    public func usableNames(by key: KeyRecord?) async throws -> [String] {
        let voices = try await usable(by: key)
        let names = Set(voices.map(\.name))
        return voices.map(\.name) + aliases.targets.filter { names.contains($0.value) }.keys.sorted()
    }

    /// The voice a request names (directly or through an alias), with a hold on its file for the request's life.
    public func resolve(_ requested: String, for key: KeyRecord) async throws -> (VoiceRecord, ReferenceHold) {
        let name = aliases.resolve(requested.trimmingCharacters(in: .whitespaces))
        let found = VoiceRecord.isValidName(name) ? try await store.voice(named: name) : nil
        guard let voice = found, voice.isUsable(by: key) else {
            let names = (try? await usableNames(by: key)) ?? []
            let listed = names.isEmpty ? "this key has no saved voices (POST /api/v1/voices)" : "use one of: \(names.joined(separator: ", "))"
            throw GatewayError.invalid("unknown_voice", "no voice named '\(requested)' for this key; \(listed)",
                                       details: ["voices": .array(names.map { .string($0) })], param: "voice")
        }
        let hold = pins.hold(voice.fileName)
        guard FileManager.default.fileExists(atPath: referenceDirectory + "/" + voice.fileName) else {
            throw fileMissing(voice)
        }
        return (voice, hold)
    }

    /// A voice the store knows whose recording this gateway's folder lacks: another gateway saved it into a folder
    /// that is not shared with this one. Never synthesized with another recording.
    func fileMissing(_ voice: VoiceRecord) -> GatewayError {
        GatewayError(503, "voice_file_missing", "the recording of voice \(voice.name) (\(voice.fileName)) is missing from this gateway's "
                     + "reference folder \(referenceDirectory); gateways sharing a store must share SOVITS_REF_DIR", retryAfter: 30)
    }

    /// The stored voices whose recordings this gateway's folder lacks, for `/health`.
    public func missingRecordings() async throws -> [String] {
        try await store.voices().filter { !FileManager.default.fileExists(atPath: referenceDirectory + "/" + $0.fileName) }.map(\.name)
    }

    /// The voice if `key` may see it; 404 otherwise (a private voice's existence is not told to other keys).
    public func voice(named name: String, for key: KeyRecord) async throws -> VoiceRecord {
        guard VoiceRecord.isValidName(name), let voice = try await store.voice(named: name), voice.isUsable(by: key) else {
            throw GatewayError(404, "voice_not_found", "no voice named '\(name)' for this key")
        }
        return voice
    }

    /// Deletes a voice (its owner or an admin). A request already holding its file keeps it until done.
    public func delete(_ name: String, by key: KeyRecord) async throws {
        let voice = try await self.voice(named: name, for: key)
        guard key.role == .admin || voice.owner == key.name else {
            throw GatewayError(403, "forbidden", "voice \(name) belongs to key \(voice.owner); only it or an admin can delete it")
        }
        guard let removed = try await store.deleteVoice(named: name) else {
            throw GatewayError(404, "voice_not_found", "no voice named '\(name)' for this key")
        }
        await removeFileIfUnused(removed)
    }

    /// Marks a voice shared or private (admins only).
    public func setShared(_ name: String, shared: Bool, by key: KeyRecord) async throws -> VoiceRecord {
        guard key.role == .admin else { throw GatewayError(403, "forbidden", "only an admin key can share a voice") }
        var voice = try await self.voice(named: name, for: key)
        guard try await store.setVoiceShared(name, shared: shared) else {
            throw GatewayError(404, "voice_not_found", "no voice named '\(name)' for this key")
        }
        voice.shared = shared
        return voice
    }

    private func removeFileIfUnused(_ voice: VoiceRecord) async {
        guard (try? await store.voiceCount(usingFile: voice.fileName)) == 0 else { return }
        pins.remove(voice.fileName, path: referenceDirectory + "/" + voice.fileName)
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
