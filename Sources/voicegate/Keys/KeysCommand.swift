import ArgumentParser
import Foundation
import VoiceGateCore

/// `voicegate keys ...`: works on the store directly, so it works while a server runs; the server picks a change
/// up within a second.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Add, list, change and revoke API keys (also while the gateway runs).",
        subcommands: [Add.self, List.self, Set.self, Revoke.self]
    )

    /// A limit given on the command line: a whole number, or `none` to remove it.
    struct Limit: ExpressibleByArgument {
        let value: Int?
        init?(argument: String) {
            if ["none", "unlimited"].contains(argument.lowercased()) { value = nil; return }
            guard let n = Int(argument), n >= 1 else { return nil }
            value = n
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a key and print it (this once only).")
        @Argument(help: "The key's name: letters, digits, '.', '_' or '-'.") var name: String
        @Flag(help: "An admin key (may manage keys and read all history); otherwise a client key.") var admin = false
        @Option(help: "Requests per minute.") var rpm: Int?
        @Option(help: "Characters per day (UTC).") var charsPerDay: Int?
        @Option(help: "Requests in flight at once.") var concurrent: Int?
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let (key, secret) = try await store.with { db in
                try await KeysCommand.perform {
                    try await KeyAdministration(store: db).add(
                        name: name, role: admin ? .admin : .client,
                        limits: .init(requestsPerMinute: rpm, charactersPerDay: charsPerDay, concurrent: concurrent))
                }
            }
            print(secret)
            FileHandle.standardError.write(Data("voicegate: made \(key.role.rawValue) key \(key.name) (\(KeysCommand.describe(key.limits))); it is shown only now: send it as X-API-Key\n".utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Names, roles, limits, use today and last use (never a key).")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let (keys, usage) = try await store.with { db in (try await db.keys(), try await db.usage(day: UsageDay.name(of: Date()))) }
            let format = ISO8601DateFormatter()
            let rows = [["NAME", "ROLE", "STATE", "RPM", "CHARS/DAY", "CONCURRENT", "REQUESTS TODAY", "CHARS TODAY", "LAST USED"]] + keys.map { k in
                let u = usage[k.name] ?? KeyUsage()
                return [k.name, k.role.rawValue, k.enabled ? "enabled" : "disabled", KeysCommand.text(k.limits.requestsPerMinute),
                        KeysCommand.text(k.limits.charactersPerDay), KeysCommand.text(k.limits.concurrent), String(u.requests),
                        String(u.characters), k.lastUsedAt.map { format.string(from: $0) } ?? "never"]
            }
            TextTable.print(rows)
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a key's role, limits (a number, or none) or state.")
        @Argument var name: String
        @Flag(exclusivity: .exclusive, help: "Make it an admin or a client key.") var role: KeyRecord.Role?
        @Option(help: "Requests per minute, or none.") var rpm: Limit?
        @Option(help: "Characters per day, or none.") var charsPerDay: Limit?
        @Option(help: "Requests in flight at once, or none.") var concurrent: Limit?
        @Flag(exclusivity: .exclusive, help: "Refuse or accept the key again.") var state: KeyState?
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let change = KeyAdministration.Change(role: role, requestsPerMinute: rpm.map { $0.value }, charactersPerDay: charsPerDay.map { $0.value },
                                                  concurrent: concurrent.map { $0.value }, enabled: state.map { $0 == .enable })
            guard !change.isEmpty else { throw ValidationError("say what to change: --admin/--client, --rpm, --chars-per-day, --concurrent, --enable/--disable") }
            let key = try await store.with { db in
                try await KeysCommand.perform { try await KeyAdministration(store: db).update(name: name, change) }
            }
            print("\(key.name): \(key.role.rawValue), \(key.enabled ? "enabled" : "disabled"), \(KeysCommand.describe(key.limits))")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a key: it is refused within a second, also by a running server.")
        @Argument var name: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await store.with { db in try await KeysCommand.perform { try await KeyAdministration(store: db).revoke(name: name) } }
            print("revoked \(name)")
        }
    }

    enum KeyState: String, EnumerableFlag {
        case enable, disable
    }

    /// A refusal from the administration (a taken name, no such key) is one clear line and exit 1.
    static func perform<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as GatewayError {
            VoiceGateCommand.fail(error.message)
        }
    }

    static func text(_ limit: Int?) -> String { limit.map(String.init) ?? "-" }

    static func describe(_ limits: KeyRecord.Limits) -> String {
        var parts: [String] = []
        if let n = limits.requestsPerMinute { parts.append("\(n) requests/minute") }
        if let n = limits.charactersPerDay { parts.append("\(n) characters/day") }
        if let n = limits.concurrent { parts.append("\(n) at once") }
        return parts.isEmpty ? "no limits" : parts.joined(separator: ", ")
    }
}

extension KeyRecord.Role: EnumerableFlag {}
