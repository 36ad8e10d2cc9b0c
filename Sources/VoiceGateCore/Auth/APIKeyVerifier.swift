import Crypto

/// Checks a presented key against the gateway's key in constant time.
/// Both sides are hashed first so neither the length nor the content of the key leaks through timing.
public struct APIKeyVerifier: Sendable {
    private let expectedDigest: [UInt8]

    public init(key: String) {
        expectedDigest = Array(SHA256.hash(data: Array(key.utf8)))
    }

    public func verify(_ presented: String?) -> Bool {
        guard let presented else { return false }
        let digest = Array(SHA256.hash(data: Array(presented.utf8)))
        var difference: UInt8 = 0
        for i in 0..<expectedDigest.count { difference |= expectedDigest[i] ^ digest[i] }
        return difference == 0
    }
}
