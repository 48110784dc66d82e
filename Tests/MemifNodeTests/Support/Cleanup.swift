import Synchronization
import Testing

/// Stops every memifd and deletes every namespace a test made, when the test ends, whatever
/// happened in it. Deinitializers are not enough: a failed expectation keeps the values it
/// shows (the fixtures among them) until the run ends, and the run then exits without
/// releasing them.
struct CleansUp: TestTrait, SuiteTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        guard testCase != nil else {
            try await function()
            return
        }
        let bag = CleanupBag()
        defer { bag.run() }
        try await CleanupBag.$current.withValue(bag) { try await function() }
    }
}

extension Trait where Self == CleansUp {
    static var cleansUp: Self { CleansUp() }
}

final class CleanupBag: Sendable {
    @TaskLocal static var current: CleanupBag?
    private let actions = Mutex<[@Sendable () -> Void]>([])

    /// Registers `action` with the running test's bag (no-op outside a `.cleansUp` test).
    static func add(_ action: @escaping @Sendable () -> Void) {
        current?.actions.withLock { $0.append(action) }
    }

    /// Newest first, so processes stop before the namespaces they serve go.
    func run() {
        for action in actions.withLock({ $0 }).reversed() { action() }
    }
}
