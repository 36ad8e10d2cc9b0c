import VoiceGateCore
print(Gateway.version)
