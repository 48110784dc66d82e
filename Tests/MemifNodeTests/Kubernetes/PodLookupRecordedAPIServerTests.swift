import Foundation
import MemifNode
import Testing

/// Pod lookup and the node-local watch against a recorded stand-in for the API server (no
/// Kubernetes API server can run here): real HTTPS with a throwaway CA, bearer-token
/// checks, and recorded, real-shaped v1.Pod / PodList / Status objects and watch events.
@Suite("Pod lookup against a recorded stand-in API server (HTTPS, fixtures)", .serialized, .timeLimit(.minutes(3)))
struct PodLookupRecordedAPIServerTests {
    static let web0 = "/api/v1/namespaces/cnf/pods/web-0"
    static let web0UID = "6f0c2b1e-4c1a-4b8e-9d51-2a7f3c9e8b10"

    func ok(_ fixture: String) -> RecordedAPIServer.Response { .init(status: 200, fixture: fixture) }
    var notFound: RecordedAPIServer.Response { .init(status: 404, fixture: "status-notfound-web-0.json") }

    @Test func lookupReturnsTheAnnotationsOfThePodWithTheExpectedUID() throws {
        let server = try RecordedAPIServer(routes: [.init(path: Self.web0, responses: [ok("pod-web-0.json")])])
        let lookup = PodLookup(client: try server.client())
        let annotations = try lookup.annotations(namespace: "cnf", name: "web-0", uid: Self.web0UID)
        #expect(annotations["memifkit.io/ports"] == "udp:5000,tcp:4444-4450")
        #expect(annotations["cni.projectcalico.org/vppExtraMemifPorts"] == "udp:6081")
        #expect(annotations.count == 3)
        let pod = try lookup.pod(namespace: "cnf", name: "web-0", uid: nil)
        #expect(pod.nodeName == "node-a" && pod.resourceVersion == "48213")
        let requests = server.requests()
        #expect(requests.count == 2 && requests.allSatisfy { $0.path == Self.web0 })
        #expect(requests.first?.authorization == "Bearer \(RecordedAPIServer.token)")
    }

    @Test func aUIDMismatchIsAnError() throws {
        let server = try RecordedAPIServer(routes: [.init(path: Self.web0, responses: [ok("pod-web-0.json")])])
        let lookup = PodLookup(client: try server.client())
        #expect(throws: PodLookupError.uidMismatch(namespace: "cnf", name: "web-0", expected: "0000-old", found: Self.web0UID)) {
            try lookup.annotations(namespace: "cnf", name: "web-0", uid: "0000-old")
        }
    }

    @Test func notFoundIsRetriedBrieflyThenFoundOrReported() throws {
        let server = try RecordedAPIServer(routes: [
            .init(path: Self.web0, responses: [notFound, notFound, ok("pod-web-0.json")]),
            .init(path: "/api/v1/namespaces/cnf/pods/gone-0", responses: [notFound]),
        ])
        let lookup = PodLookup(client: try server.client(), notFoundRetries: 3, retryDelay: .milliseconds(50))
        #expect(try lookup.annotations(namespace: "cnf", name: "web-0", uid: Self.web0UID)["memifkit.io/ports"] != nil)
        #expect(server.requests().count == 3)
        #expect(throws: PodLookupError.notFound(namespace: "cnf", name: "gone-0")) {
            try lookup.annotations(namespace: "cnf", name: "gone-0", uid: nil)
        }
        #expect(server.requests().count == 3 + 4)
    }

    @Test func rejectedTokensAndMissingRightsAreClearErrors() throws {
        let server = try RecordedAPIServer(routes: [
            .init(path: Self.web0, responses: [ok("pod-web-0.json")]),
            .init(path: "/api/v1/namespaces/cnf/pods/secret-0", responses: [.init(status: 403, fixture: "status-forbidden.json")]),
        ])
        let rejected = PodLookup(client: try server.client(tokenFile: "wrong-token"))
        #expect(throws: PodLookupError.unauthorized("Unauthorized")) {
            try rejected.annotations(namespace: "cnf", name: "web-0", uid: nil)
        }
        let lookup = PodLookup(client: try server.client())
        do {
            _ = try lookup.annotations(namespace: "cnf", name: "secret-0", uid: nil)
            Issue.record("403 must fail")
        } catch let error as PodLookupError {
            guard case .forbidden(let message) = error else { throw error }
            #expect(message.contains("cannot get resource \"pods\""))
        }
        // A name that would change the URL path never reaches the server.
        #expect(throws: PodLookupError.self) { try lookup.annotations(namespace: "cnf", name: "../../secrets", uid: nil) }
    }

    @Test func theServerCertificateIsVerified() throws {
        let server = try RecordedAPIServer(routes: [.init(path: Self.web0, responses: [ok("pod-web-0.json")])])
        // A CA that did not sign the server's certificate: verification must fail.
        let lookup = PodLookup(client: try server.client(caFile: "other-ca.crt"))
        do {
            _ = try lookup.annotations(namespace: "cnf", name: "web-0", uid: nil)
            Issue.record("an unverifiable server must fail")
        } catch let error as PodLookupError {
            guard case .transport = error else { throw error }
        }
        #expect(server.requests().isEmpty)
    }

    @Test func theNodeWatchFeedsTheCacheAndRelistsAfter410Gone() throws {
        let server = try RecordedAPIServer(routes: [
            .init(path: "/api/v1/pods", responses: [ok("podlist-node-a.json"), ok("podlist-node-a-relisted.json")]),
            .init(
                path: "/api/v1/pods", watch: true,
                responses: [
                    .init(
                        status: 200,
                        events: [
                            "event-added-web-1.json", "event-modified-web-0.json", "event-deleted-dns-1.json", "event-bookmark-48310.json",
                        ], hold: 0.3),
                    .init(status: 200, events: ["event-error-410.json"], hold: 0),
                    .init(status: 200, events: [], hold: 30),
                ]),
        ])
        let client = try server.client()
        let watch = PodWatch(client: client, nodeName: "node-a", retryDelay: .milliseconds(100))
        watch.start()
        defer { watch.stop() }

        let deadline = Date().addingTimeInterval(15)
        while watch.eventCount < 4 && Date() < deadline { usleep(5000) }
        // Before the relist: the list plus the four events (or already relisted, checked below).
        while watch.listCount < 2 && Date() < deadline { usleep(5000) }
        while watch.cache.pod(namespace: "cnf", name: "web-2") == nil && Date() < deadline { usleep(5000) }
        #expect(watch.listCount == 2, "\(watch.lastFailure ?? "")")
        #expect(watch.cache.pod(namespace: "cnf", name: "web-2")?.annotations["memifkit.io/ports"] == "tcp:8080")
        #expect(watch.cache.pod(namespace: "cnf", name: "web-0")?.annotations["memifkit.io/ports"] == "udp:5000-5010")
        #expect(watch.cache.pod(namespace: "cnf", name: "dns-1") == nil)
        #expect(watch.cache.pod(namespace: "cnf", name: "web-1") == nil, "the relist replaced the cache")

        // The watch after the relist starts just after the relist lands in the cache.
        while server.requests().filter({ $0.query["watch"] == "true" }).count < 3 && Date() < deadline { usleep(5000) }
        let requests = server.requests()
        let watches = requests.filter { $0.query["watch"] == "true" }
        #expect(requests.allSatisfy { $0.query["fieldSelector"] == "spec.nodeName=node-a" })
        #expect(watches.map { $0.query["resourceVersion"] ?? "" }.prefix(3) == ["48300", "48310", "49000"])
        #expect(watches.first?.query["allowWatchBookmarks"] == "true")

        // The lookup answers from the cache: web-2 has no GET route, the cache has it.
        let lookup = PodLookup(client: client, cache: watch.cache, notFoundRetries: 0)
        #expect(try lookup.annotations(namespace: "cnf", name: "web-2", uid: "e4f5a6b7-c8d9-4e0f-a1b2-c3d4e5f6a7b8") == ["memifkit.io/ports": "tcp:8080"])
        #expect(!server.requests().contains { $0.path.contains("web-2") })
        let stopStart = Date()
        watch.stop()
        #expect(Date().timeIntervalSince(stopStart) < 5, "stop ends the open watch promptly")
    }

    @Test func inClusterConfigurationComesFromTheEnvironment() throws {
        let c = try KubernetesAPIConfiguration.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"])
        #expect(c.server == "https://10.96.0.1:443")
        #expect(c.caFile == "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt")
        #expect(c.tokenFile == "/var/run/secrets/kubernetes.io/serviceaccount/token")
        #expect(try KubernetesAPIConfiguration.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "fd00::1"]).server == "https://[fd00::1]:443")
        #expect(throws: PodLookupError.self) { try KubernetesAPIConfiguration.inCluster(environment: [:]) }
        #expect(throws: PodLookupError.self) {
            try KubernetesAPIConfiguration.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "h", "KUBERNETES_SERVICE_PORT": "x"])
        }
    }
}
