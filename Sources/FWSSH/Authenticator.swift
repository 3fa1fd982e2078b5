import CLibSSH2
import Foundation

/// Public-key authentication in OpenSSH's order: ssh-agent identities, then the target's key files, then the
/// default ones. Remembers what it tried so a refusal says exactly that.
struct Authenticator {
    let session: SSHSession

    private var raw: OpaquePointer { session.raw }
    private var user: String { session.target.user }
    private var options: SSHOptions { session.options }

    private struct Attempts {
        var agent: String?
        var files: [String] = []
        var absent: [String] = []
        var rsaRejected = false
        var disconnected = false
    }

    func authenticate() throws {
        let methods: String
        let userLength = UInt32(user.utf8.count)
        if let list = try session.retryPointer(.auth, { libssh2_userauth_list(raw, user, userLength) }) {
            methods = String(cString: list)
        } else if libssh2_userauth_authenticated(raw) != 0 {
            return  // the server accepted "none"
        } else {
            throw SSHError(.auth, host: session.hostName, "the server closed the connection before authentication: \(LibSSH2.lastError(raw).message)")
        }
        guard methods.split(separator: ",").contains("publickey") else {
            throw SSHError(.auth, host: session.hostName,
                           "the server does not accept public keys for \(user) (it offers: \(methods)); fwctl authenticates with keys only")
        }

        var attempts = Attempts()
        if options.useAgent, let socketPath = options.environment["SSH_AUTH_SOCK"], !socketPath.isEmpty {
            if try authenticateWithAgent(socketPath, &attempts) { return }
        } else {
            attempts.agent = options.useAgent ? "agent: SSH_AUTH_SOCK is not set" : nil
        }
        var seen = Set<String>()
        let explicit = session.target.identityFiles.map(options.expandingTilde)
        for path in explicit + options.defaultIdentityFiles where !attempts.disconnected {
            guard seen.insert(path).inserted else { continue }
            if try authenticateWithFile(path, explicit: explicit.contains(path), &attempts) { return }
        }
        throw refusal(attempts)
    }

    // MARK: Agent

    private func authenticateWithAgent(_ socketPath: String, _ attempts: inout Attempts) throws -> Bool {
        guard let agent = libssh2_agent_init(raw) else {
            attempts.agent = "agent: libssh2 could not allocate an agent handle"
            return false
        }
        defer {
            libssh2_agent_disconnect(agent)
            libssh2_agent_free(agent)
        }
        libssh2_agent_set_identity_path(agent, socketPath)
        // The agent socket is local and blocking: connect and listing do not touch the SSH connection.
        guard libssh2_agent_connect(agent) == 0 else {
            attempts.agent = "agent: cannot connect to SSH_AUTH_SOCK=\(socketPath)"
            return false
        }
        guard libssh2_agent_list_identities(agent) == 0 else {
            attempts.agent = "agent: cannot list identities at \(socketPath)"
            return false
        }
        var tried: [String] = []
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
        while libssh2_agent_get_identity(agent, &identity, previous) == 0, let current = identity {
            previous = current
            let key = PublicKey(blob: Array(UnsafeBufferPointer(start: current.pointee.blob, count: current.pointee.blob_len)))
            let comment = current.pointee.comment.map { String(cString: $0) } ?? ""
            let rc = try session.retry(.auth) { libssh2_agent_userauth(agent, user, current) }
            if rc == 0 {
                session.log.debug("authenticated with agent key \(key.type) \(key.fingerprint) \(comment)")
                return true
            }
            tried.append("\(key.type) \(key.fingerprint)\(comment.isEmpty ? "" : " \(comment)")")
            if key.isRSA { attempts.rsaRejected = true }
            if isDisconnect(rc) { attempts.disconnected = true; break }
        }
        let count = tried.count == 1 ? "1 identity" : "\(tried.count) identities"
        attempts.agent = "agent (\(socketPath)): \(count)" + (tried.isEmpty ? "" : " rejected: " + tried.joined(separator: ", "))
        return false
    }

    // MARK: Key files

    private func authenticateWithFile(_ path: String, explicit: Bool, _ attempts: inout Attempts) throws -> Bool {
        guard FileManager.default.fileExists(atPath: path) else {
            if explicit { attempts.files.append("\(path) (does not exist)") } else { attempts.absent.append(path) }
            return false
        }
        guard let key = PrivateKeyFile.inspect(path) else {
            attempts.files.append("\(path) (cannot be read)")
            return false
        }
        let type = key.keyType ?? "key"
        var attempt = 1
        while true {
            var passphrase: String?
            if key.encrypted {
                guard let given = options.passphrases.provide(path, attempt) else {
                    let why = attempt == 1 ? "encrypted and no passphrase: \(options.passphrases.unavailableHint)" : "wrong passphrase"
                    attempts.files.append("\(path) (\(type), \(why))")
                    return false
                }
                passphrase = given
            }
            let userLength = UInt32(user.utf8.count)
            let rc = try session.retry(.auth) {
                libssh2_userauth_publickey_fromfile_ex(raw, user, userLength, nil, path, passphrase)
            }
            if rc == 0 {
                session.log.debug("authenticated with key file \(path)")
                return true
            }
            if rc == LIBSSH2_ERROR_FILE {
                if key.encrypted { attempt += 1; continue }  // most likely a wrong passphrase: ask again or give up
                attempts.files.append("\(path) (libssh2 cannot read it: \(LibSSH2.lastError(raw).message))")
                return false
            }
            if isDisconnect(rc) {
                attempts.disconnected = true
                attempts.files.append("\(path) (\(type): the server closed the connection; too many keys tried? see MaxAuthTries)")
                return false
            }
            if key.isRSA { attempts.rsaRejected = true }
            attempts.files.append("\(path) (\(type), rejected)")
            return false
        }
    }

    private func isDisconnect(_ rc: Int32) -> Bool { LibSSH2.isConnectionError(rc) }

    private func refusal(_ attempts: Attempts) -> SSHError {
        var tried: [String] = []
        if let agent = attempts.agent { tried.append(agent) }
        tried.append(attempts.files.isEmpty ? "key files: none usable" : "key files: " + attempts.files.joined(separator: "; "))
        var message = "no key was accepted for \(user)@\(session.target.address). Tried " + tried.joined(separator: "; ")
        if !attempts.absent.isEmpty { message += "; not present: " + attempts.absent.joined(separator: ", ") }
        message += "."
        if attempts.rsaRejected {
            message += " An RSA key was rejected: libssh2 1.10 cannot sign with rsa-sha2-256/512 and OpenSSH >= 8.8 refuses ssh-rsa (SHA-1) signatures; use an ed25519 or ecdsa key."
        } else {
            message += " Check that the public key is in ~\(user)/.ssh/authorized_keys on the host."
        }
        return SSHError(.auth, host: session.hostName, message)
    }
}
