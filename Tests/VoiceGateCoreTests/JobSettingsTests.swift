import Foundation
import Testing
@testable import VoiceGateCore

struct JobSettingsTests {
    /// A job stored by a VoiceGate from before a setting existed keeps its own settings and the new one's default.
    @Test func settingsStoredWithoutANewerFieldKeepTheRestAndTheDefault() throws {
        let stored = #"{"format":"mp3","pauseMs":450,"fitSpeed":true,"maxSpeed":1.4,"callbackURL":"https://example.com/done"}"#
        let settings = try JSONDecoder().decode(JobRecord.Settings.self, from: Data(stored.utf8))
        #expect(settings.format == .mp3 && settings.pauseMs == 450 && settings.fitSpeed && settings.maxSpeed == 1.4)
        #expect(settings.callbackURL == "https://example.com/done" && settings.parallel == 1 && settings.language == nil)
        var changed = settings
        changed.parallel = 4
        #expect(try JSONDecoder().decode(JobRecord.Settings.self, from: JSONEncoder().encode(changed)) == changed)
    }
}
