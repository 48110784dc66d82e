import Testing

@testable import MemifCNI

/// The pod's addresses travel from the chain's prevResult to memifd (steering matches on them).
@Suite struct NodeRequestTests {
    @Test func podIPsComeFromPrevResultWithoutPrefixLengths() throws {
        let prev = try JSON.parse(
            #"{"cniVersion":"1.0.0","ips":[{"address":"10.244.1.5/24","gateway":"10.244.1.1"},{"address":"fd00::5/64"}]}"#)
        #expect(CNIPlugin.podIPs(prev) == ["10.244.1.5", "fd00::5"])
        #expect(CNIPlugin.podIPs(nil) == [])
        #expect(CNIPlugin.podIPs(try JSON.parse(#"{"ips":"not a list"}"#)) == [])
    }

    @Test func podIPsRoundTripThroughTheProtocol() throws {
        let request = NodeRequest(
            .add, key: AttachmentKey(containerID: "c1", ifname: "eth0"), netns: "/run/netns/p", podIPs: ["10.244.1.5"])
        let back = try NodeRequest(json: try JSON.parse(request.json.serialized))
        #expect(back.podIPs == ["10.244.1.5"])
        #expect(try NodeRequest(json: try JSON.parse(#"{"memifkit":1,"op":"status"}"#)).podIPs == [])
        #expect(throws: CNIError.self) { try NodeRequest(json: try JSON.parse(#"{"memifkit":1,"op":"status","podIPs":[7]}"#)) }
    }
}
