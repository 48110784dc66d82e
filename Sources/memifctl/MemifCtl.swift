import ArgumentParser

@main
struct MemifCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memifctl",
        abstract: "Serve or connect to a memif and move packets; inspect memif sockets.",
        subcommands: [Reflect.self, Sink.self, Source.self, Inspect.self, Status.self]
    )
}
