import Foundation
import PackagePlugin

/// Embeds `assets/openapi.json` and `assets/sample-voice.wav` into the core library at build time.
@main
struct EmbedAssets: BuildToolPlugin {
    static let assets = ["openAPIDocument": "openapi.json", "sampleVoice": "sample-voice.wav"]

    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let assets = context.package.directoryURL.appending(path: "assets")
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedAssets.swift")
        let inputs = Self.assets.sorted { $0.key < $1.key }.map { ($0.key, assets.appending(path: $0.value)) }
        return [.buildCommand(
            displayName: "Embedding assets into \(target.name)",
            executable: try context.tool(named: "embed-assets").url,
            arguments: [output.path()] + inputs.map { "\($0.0)=\($0.1.path())" },
            inputFiles: inputs.map(\.1),
            outputFiles: [output]
        )]
    }
}
