import Foundation
import Testing
@testable import VoiceGateConsole
@testable import VoiceGateCore

@Suite("The console's voice picker and output format")
struct ConsoleVoiceTests {
    @Test func leftAndRightPickAVoiceAndAFormatAndTheFormScrollsToThem() {
        var state = ConsoleScreenTests.state()
        state.form.updateVoices(["anna", "bert"])
        let keys = KeyHandler()
        state.focus = .field(.voice)
        _ = keys.handle(.right, &state)
        #expect(state.form.voice == "anna")
        _ = keys.handle(.right, &state)
        _ = keys.handle(.right, &state)
        #expect(state.form.voice == nil, "after the last voice comes the Reference file again")
        _ = keys.handle(.left, &state)
        #expect(state.form.voice == "bert")
        #expect(keys.handle(.character("q"), &state) == .quit, "a selector takes no text")
        state.focus = .field(.format)
        _ = keys.handle(.right, &state)
        #expect(state.form.format == .mp3)
        #expect(state.form.outputPath(folder: "/out").hasSuffix(".mp3"))
        _ = keys.handle(.right, &state)
        #expect(state.form.format == .opus && state.form.outputPath(folder: "/out").hasSuffix(".ogg"))

        // 80x24 stacks the panes: the form shows a window of its fields that holds the focused one.
        let canvas = MemoryCanvas(width: 80, height: 24)
        ConsoleRenderer().render(state, ConsoleScreenTests.snapshot(), on: canvas)
        #expect(canvas.contains("◀ opus ▶") && canvas.contains("(not used: voice bert)"))
        state.focus = .field(.text)
        ConsoleRenderer().render(state, ConsoleScreenTests.snapshot(), on: canvas)
        #expect(canvas.contains("Text") && !canvas.contains("◀ opus ▶"))
        // A voice removed from the store falls back to the file.
        state.form.updateVoices(["anna"])
        #expect(state.form.voice == nil)
        let wide = MemoryCanvas(width: 120, height: 40)
        ConsoleRenderer().render(state, ConsoleScreenTests.snapshot(), on: wide)
        for label in FormField.allCases.map(\.label) { #expect(wide.contains(label), "\(label)") }
        #expect(wide.contains("◀ (the Reference file) ▶"))
    }

    @Test func theConsoleSpeaksWithASavedVoiceAndSavesMP3() async throws {
        try await TestGateway.run { (t: TestGateway) async throws in
            #expect(try await t.makeVoice("anna", promptText: "Anna's own words.").status == 201)
            var form = SynthesisForm(reference: "/nonexistent.wav")
            form.text = "From the console, as Anna."
            form.updateVoices(try await t.gateway.voices.usable(by: ConsoleSynthesizer.operatorKey).map(\.name))
            form.step(.voice, by: 1)
            form.step(.format, by: 1)
            #expect(form.voice == "anna" && form.format == .mp3)
            let state = await ConsoleSynthesizer(gateway: t.gateway).run(form, outputFolder: t.dataDir + "/out") { _ in }
            guard case .finished(let result) = state else { Issue.record("\(state)"); return }
            #expect(result.path.hasSuffix(".mp3") && result.duration > 1 && !result.peaks.isEmpty)
            let info = try AudioInspector.inspect(path: result.path)
            #expect(info.format == .mp3 && abs(info.duration - result.duration) < 0.1)
            let body = try #require(t.double?.recorder.stats.bodies.last)
            #expect(body["prompt_text"]?.string == "Anna's own words." && body["ref_audio_path"]?.string?.contains("/voices/") == true)
            let rows = try await t.request(.GET, "/api/v1/history").json["items"] as? [[String: Any]]
            #expect(rows?.first?["voice"] as? String == "anna" && rows?.first?["response_format"] as? String == "mp3")
        }
    }
}
