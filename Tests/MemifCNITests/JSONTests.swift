import MemifCNI
import Testing

struct JSONTests {
    @Test func roundTripKeepsOrderNumbersAndEscapes() throws {
        let text = #"{"z":1,"a":[true,false,null,-0.5e+10,"\"\\\n\t\u0001é😀"],"m":{"k":{}},"n":12345678901234567890}"#
        let value = try JSON.parse(text)
        #expect(value.objectValue?.map(\.key) == ["z", "a", "m", "n"])
        #expect(value["n"] == .number("12345678901234567890"))
        #expect(value["a"]?.arrayValue?[4] == .string("\"\\\n\t\u{1}é😀"))
        #expect(try JSON.parse(value.serialized) == value)
        #expect(try JSON.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test func malformedDocumentsAreErrorsNotTraps() {
        let bad = [
            "", " ", "{", "}", "[1,]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "01", "1.", "-", "1e", "tru", "nul",
            "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\u{1}\"", "[1] [2]", "{'a':1}",
            String(repeating: "[", count: 10_000), String(repeating: "{\"a\":", count: 500),
        ]
        for text in bad {
            #expect(throws: JSONSyntaxError.self, "\(text.prefix(20))") { try JSON.parse(text) }
        }
        #expect(throws: JSONSyntaxError.self) { try JSON.parse(bytes: [0x22, 0xFF, 0xFE, 0x22]) }
        // Random bytes never trap.
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0..<40, using: &rng)).map { _ in Array("{}[]\",:0123456789.-eE truefalsnl\\u".utf8).randomElement(using: &rng)! }
            _ = try? JSON.parse(bytes: bytes)
        }
    }

    @Test func duplicateKeysKeepFirstPositionLastValue() throws {
        let value = try JSON.parse(#"{"a":1,"b":2,"a":3}"#)
        #expect(value.serialized == #"{"a":3,"b":2}"#)
    }
}

struct CNIInvocationTests {
    @Test func kubernetesArgsAndPath() throws {
        let inv = try CNIInvocation(environment: [
            "CNI_COMMAND": "ADD", "CNI_CONTAINERID": "a1_b.c-d", "CNI_NETNS": "/run/netns/x", "CNI_IFNAME": "eth0",
            "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_UID=u;K8S_POD_INFRA_CONTAINER_ID=i;X=a=b",
            "CNI_PATH": "/opt/cni/bin:/usr/lib/cni",
        ])
        #expect(inv.command == .add)
        #expect(inv.args.podNamespace == "ns" && inv.args.podName == "p" && inv.args.podUID == "u")
        #expect(inv.args.pairs["X"] == "a=b")
        #expect(inv.path == ["/opt/cni/bin", "/usr/lib/cni"])
    }

    @Test func containerIDCharset() {
        for ok in ["a", "0", "abc_DEF.1-2"] { #expect(CNIInvocation.isValidContainerID(ok)) }
        for bad in ["", "_a", ".a", "-a", "a b", "a/b", "a\u{0}", "é"] { #expect(!CNIInvocation.isValidContainerID(bad)) }
    }

    @Test func interfaceNames() {
        for ok in ["eth0", "net1", "a", "memif-eth1", "123456789012345"] { #expect(CNIInvocation.isValidInterfaceName(ok)) }
        for bad in ["", ".", "..", "a/b", "a:b", "a b", "1234567890123456"] { #expect(!CNIInvocation.isValidInterfaceName(bad)) }
    }
}

struct CNIResultTests {
    static let status = AttachmentStatus(
        key: AttachmentKey(containerID: "c", ifname: "eth0"), netns: "/run/netns/p", podNamespace: nil, podName: nil,
        socket: "@vpp/memif-eth0", mode: "ethernet", ports: "udp:53")

    @Test func resultAppendsTheMemifIn11AndPassesThrough10() throws {
        let prev = try JSON.parse(#"{"cniVersion":"1.0.0","interfaces":[{"name":"eth0"}],"ips":[{"address":"10.0.0.2/24","interface":0}],"dns":{},"x-extra":1}"#)
        let r11 = CNIResult.add(prevResult: prev, cniVersion: "1.1.0", memif: Self.status)
        #expect(r11.serialized == #"{"cniVersion":"1.1.0","interfaces":[{"name":"eth0"},{"name":"memif-eth0","sandbox":"/run/netns/p","socketPath":"@vpp/memif-eth0"}],"ips":[{"address":"10.0.0.2/24","interface":0}],"dns":{},"x-extra":1}"#)
        #expect(CNIResult.add(prevResult: prev, cniVersion: "1.0.0", memif: Self.status) == prev)
        let alone = CNIResult.add(prevResult: nil, cniVersion: "1.1.0", memif: Self.status)
        #expect(alone["interfaces"]?.arrayValue?.count == 1)
    }

    @Test func protocolRoundTripsAndRefusesOtherVersions() throws {
        let request = NodeRequest(
            .add, key: AttachmentKey(containerID: "c", ifname: "eth0"), netns: "/n", podNamespace: "ns", podName: "p",
            podUID: "u", annotations: ["k": "v"])
        #expect(try NodeRequest(json: JSON.parse(request.json.serialized)) == request)
        for reply in [NodeReply.done(Self.status), .done(nil), .status([Self.status]), .failed(CNIError(.invalidConfiguration, "m", details: "d"))] {
            #expect(try NodeReply(json: JSON.parse(reply.json.serialized)) == reply)
        }
        var other = request.json
        other.set("memifkit", JSON(2))
        #expect(throws: CNIError.self) { try NodeRequest(json: other) }
        #expect(throws: CNIError.self) { try NodeRequest(json: JSON.parse(#"{"memifkit":1,"op":"add"}"#)) }
    }
}
