import MemifSteering

/// memif-cni's command logic, apart from process I/O so tests can drive it in-process:
/// environment and stdin in, stdout text and exit status out.
public enum CNIPlugin {
    public struct Outcome: Sendable {
        public var stdout: String
        public var exitStatus: Int32
    }

    /// Used for error documents when stdin did not name a version we speak.
    public static let fallbackVersion = "1.1.0"

    public static func run(environment: [String: String], stdin: [UInt8]) -> Outcome {
        let invocation: CNIInvocation
        do throws(CNIError) {
            invocation = try CNIInvocation(environment: environment)
        } catch {
            return failure(error, version: versionOf(stdin))
        }
        if invocation.command == .version {
            let requested = versionOf(stdin)
            return Outcome(stdout: CNIResult.version(cniVersion: requested).serialized + "\n", exitStatus: 0)
        }
        let config: NetworkConfiguration
        do throws(CNIError) {
            config = try NetworkConfiguration(stdin: stdin)
        } catch {
            return failure(error, version: versionOf(stdin))
        }
        do throws(CNIError) {
            return Outcome(stdout: try perform(invocation, config), exitStatus: 0)
        } catch {
            return failure(error, version: config.cniVersion)
        }
    }

    /// The addresses in a previous plugin's result, without their prefix lengths.
    static func podIPs(_ prevResult: JSON?) -> [String] {
        (prevResult?["ips"]?.arrayValue ?? []).compactMap { ip in
            ip["address"]?.stringValue?.split(separator: "/").first.map(String.init)
        }
    }

    private static func perform(_ invocation: CNIInvocation, _ config: NetworkConfiguration) throws(CNIError) -> String {
        let key = invocation.containerID.flatMap { id in invocation.ifname.map { AttachmentKey(containerID: id, ifname: $0) } }
        func request(_ op: NodeRequest.Operation) -> NodeRequest {
            NodeRequest(
                op, key: key, netns: invocation.netns, podNamespace: invocation.args.podNamespace,
                podName: invocation.args.podName, podUID: invocation.args.podUID, network: config.name,
                annotations: config.podAnnotations, podIPs: op == .add ? Self.podIPs(config.prevResult) : [])
        }
        switch invocation.command {
        case .version:
            return CNIResult.version(cniVersion: config.cniVersion).serialized + "\n"
        case .add:
            // With the annotations at hand, a pod that asks for no memif needs no memifd, and a
            // bad annotation fails here even when memifd is down.
            if let annotations = config.podAnnotations {
                do throws(SteeringAnnotationError) {
                    if try SteeringConfiguration(annotations: annotations) == nil {
                        return CNIResult.add(prevResult: config.prevResult, cniVersion: config.cniVersion, memif: nil).serialized + "\n"
                    }
                } catch {
                    throw CNIError(.invalidConfiguration, error.description)
                }
            }
            switch try NodeClient.send(request(.add), socketPath: config.nodeSocket) {
            case .done(let memif):
                return CNIResult.add(prevResult: config.prevResult, cniVersion: config.cniVersion, memif: memif).serialized + "\n"
            case .failed(let error): throw error
            case .status: throw CNIError(.protocolMismatch, "memifd answered ADD with a status")
            }
        case .del:
            // memifd not running holds nothing: its listeners went with it, and at its next
            // start it drops attachments whose namespace is gone (the runtime removes it after
            // DEL). So DEL succeeds, and a pod is never stuck on a node without memifd. A memifd
            // that is reached but fails is an error, so the runtime retries.
            switch NodeClient.exchange(request(.del), socketPath: config.nodeSocket, timeoutSeconds: 30) {
            case .reply(let reply): try expectDone(reply)
            case .notServing: break
            case .failed(let error): throw error
            }
            return ""
        case .check:
            guard let prev = config.prevResult else {
                throw CNIError(.invalidConfiguration, "CHECK needs prevResult (the result of ADD)")
            }
            let held = try expectDone(NodeClient.send(request(.check), socketPath: config.nodeSocket))
            try checkResult(prev, against: held, ifname: invocation.ifname ?? "")
            return ""
        case .gc:
            guard let valid = config.validAttachments else {
                throw CNIError(.invalidConfiguration, "GC needs cni.dev/valid-attachments")
            }
            let gc = NodeRequest(.gc, network: config.name, validAttachments: valid)
            try expectDone(NodeClient.send(gc, socketPath: config.nodeSocket))
            return ""
        case .status:
            do throws(CNIError) {
                switch try NodeClient.send(NodeRequest(.status), socketPath: config.nodeSocket, timeoutSeconds: 5) {
                case .status: return ""
                case .failed(let error): throw error
                case .done: throw CNIError(.protocolMismatch, "memifd answered STATUS with an attachment")
                }
            } catch where error.code == CNIError.Code.tryAgainLater.rawValue {
                throw CNIError(.pluginNotAvailable, "memifd is not serving, so no memif can be granted", details: error.msg)
            }
        }
    }

    @discardableResult
    private static func expectDone(_ reply: NodeReply) throws(CNIError) -> AttachmentStatus? {
        switch reply {
        case .done(let a): return a
        case .failed(let error): throw error
        case .status: throw CNIError(.protocolMismatch, "memifd answered with a status")
        }
    }

    /// CHECK consults prevResult: a memif it lists (1.1 `socketPath`) must be the one memifd holds.
    private static func checkResult(_ prev: JSON, against held: AttachmentStatus?, ifname: String) throws(CNIError) {
        let listed = (prev["interfaces"]?.arrayValue ?? []).first {
            $0["name"]?.stringValue == "memif-\(ifname)" && $0["socketPath"] != nil
        }
        guard let listed else { return }
        guard let held else {
            throw CNIError(.attachmentMismatch, "prevResult lists memif-\(ifname) but memifd holds no memif for it")
        }
        guard listed["socketPath"]?.stringValue == held.socket else {
            throw CNIError(
                .attachmentMismatch,
                "prevResult's memif socket \(listed["socketPath"]?.stringValue ?? "?") differs from memifd's \(held.socket)")
        }
    }

    private static func failure(_ error: CNIError, version: String) -> Outcome {
        Outcome(stdout: error.json(cniVersion: version).serialized + "\n", exitStatus: 1)
    }

    /// The stdin document's cniVersion when it is one we speak, else ours.
    private static func versionOf(_ stdin: [UInt8]) -> String {
        guard let doc = try? JSON.parse(bytes: stdin), let v = doc["cniVersion"]?.stringValue,
            NetworkConfiguration.supportedVersions.contains(v)
        else { return fallbackVersion }
        return v
    }
}
