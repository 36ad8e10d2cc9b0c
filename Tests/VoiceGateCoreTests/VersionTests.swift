import Testing; @testable import VoiceGateCore; @Test func v() { #expect(!VoiceGateCore.version.isEmpty) }
