import Foundation

/// What can be told about a private key file without decrypting it: its key type and whether it is encrypted.
struct PrivateKeyFile {
    var keyType: String?
    var encrypted: Bool

    /// nil when the file cannot be read.
    static func inspect(_ path: String) -> PrivateKeyFile? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        var file = PrivateKeyFile(keyType: nil, encrypted: false)
        if text.contains("-----BEGIN OPENSSH PRIVATE KEY-----") {
            file.readOpenSSHFormat(text)
        } else if text.contains("-----BEGIN RSA PRIVATE KEY-----") {
            file.keyType = "ssh-rsa"
        } else if text.contains("-----BEGIN EC PRIVATE KEY-----") {
            file.keyType = "ecdsa"
        } else if text.contains("-----BEGIN DSA PRIVATE KEY-----") {
            file.keyType = "ssh-dss"
        }
        if text.contains("Proc-Type: 4,ENCRYPTED") || text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            file.encrypted = true
        }
        if file.keyType == nil, let pub = try? String(contentsOfFile: path + ".pub", encoding: .utf8) {
            file.keyType = pub.split(separator: " ").first.map(String.init)
        }
        return file
    }

    var isRSA: Bool { keyType == "ssh-rsa" }

    /// openssh-key-v1: magic, cipher name, kdf name, kdf options, key count, then the first public key blob.
    private mutating func readOpenSSHFormat(_ text: String) {
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard let data = Data(base64Encoded: body) else { return }
        let magic = Array("openssh-key-v1".utf8) + [0]
        let bytes = Array(data)
        guard bytes.starts(with: magic) else { return }
        var reader = SSHWire.Reader(bytes: bytes, offset: magic.count)
        guard let cipher = reader.string(), reader.string() != nil, reader.string() != nil,
              reader.uint32() != nil, let publicBlob = reader.string() else { return }
        encrypted = String(decoding: cipher, as: UTF8.self) != "none"
        keyType = SSHWire.firstString(publicBlob)
    }
}
