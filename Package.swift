// swift-tools-version:6.2
import PackageDescription

// Dependencies, each justified:
// - swift-argument-parser: memifctl's command line.
// - swift-log: control-plane logging (connects, disconnect reasons); never on the data path.
// System libraries (Debian packages, scripts/setup.sh), not package dependencies:
// - libcurl (libcurl4-openssl-dev): MemifNode's Kubernetes API client; HTTPS with the
//   in-cluster CA in a few lines of C, instead of building a Swift HTTP/TLS stack.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "MemifKit",
    products: [
        .library(name: "Memif", targets: ["Memif"]),
        .library(name: "MemifPacket", targets: ["MemifPacket"]),
        .library(name: "MemifSteering", targets: ["MemifSteering"]),
        .library(name: "MemifKit", targets: ["MemifKit"]),
        .library(name: "MemifNode", targets: ["MemifNode"]),
        .executable(name: "memifctl", targets: ["memifctl"]),
        .executable(name: "l3fwd", targets: ["l3fwd"]),
        .executable(name: "memif-bench", targets: ["memif-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .target(name: "CMemifLinux", cSettings: [.define("_GNU_SOURCE")]),
        .target(
            name: "Memif",
            dependencies: ["CMemifLinux", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // Packet header views, builders and checksums: no dependencies, usable on any data path.
        .target(name: "MemifPacket", swiftSettings: strict),
        // Port steering: annotation grammar, spec, rule sets, classifier. No Foundation, so
        // memif-cni can link it statically and stay small.
        .target(name: "MemifSteering", dependencies: ["MemifPacket"], swiftSettings: strict),
        .target(name: "MemifKit", dependencies: ["Memif", "MemifPacket", "MemifSteering", "CMemifLinux"], swiftSettings: strict),
        // libcurl for the Kubernetes API client (in-cluster CA + bearer token over HTTPS): the
        // system library every distribution ships, instead of a Swift HTTP stack to build.
        .target(name: "CMemifCurl", linkerSettings: [.linkedLibrary("curl")]),
        // The node agent's library: kernel-mode port steering, Kubernetes pod lookup.
        .target(
            name: "MemifNode", dependencies: ["Memif", "MemifPacket", "MemifSteering", "CMemifLinux", "CMemifCurl"],
            swiftSettings: strict),
        .executableTarget(
            name: "memifctl",
            dependencies: [
                "Memif",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Samples: real CNFs on MemifKit, each with its README (samples/*/README.md).
        .target(name: "L3Forwarding", dependencies: ["MemifKit"], path: "samples/l3fwd/Sources/L3Forwarding", swiftSettings: strict),
        .executableTarget(
            name: "l3fwd",
            dependencies: ["L3Forwarding", "CMemifLinux", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "samples/l3fwd/Sources/l3fwd", swiftSettings: strict),
        // Benchmarks: per-packet allocation and instruction counts (Benchmarks/README.md).
        .target(name: "CMallocCounter", path: "Benchmarks/Sources/CMallocCounter"),
        .executableTarget(
            name: "memif-bench",
            dependencies: [
                "Memif", "MemifSteering", "CMallocCounter",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/Sources/memif-bench",
            swiftSettings: strict
        ),
        .testTarget(name: "MemifTests", dependencies: ["Memif", "CMemifLinux"], swiftSettings: strict),
        .testTarget(name: "MemifPacketTests", dependencies: ["MemifPacket"], swiftSettings: strict),
        .testTarget(
            name: "MemifSteeringTests", dependencies: ["MemifSteering", "MemifPacket", "Memif"], swiftSettings: strict),
        .testTarget(name: "MemifKitTests", dependencies: ["MemifKit"], swiftSettings: strict),
        .testTarget(
            name: "MemifNodeTests", dependencies: ["MemifNode", "Memif", "MemifPacket", "MemifSteering"],
            swiftSettings: strict),
        .testTarget(name: "L3ForwardingTests", dependencies: ["L3Forwarding"], swiftSettings: strict),
        .testTarget(name: "IntegrationTests", dependencies: ["Memif", "MemifPacket", "CMemifLinux"], swiftSettings: strict),
    ]
)
