// swift-tools-version:6.2
import PackageDescription

// Dependencies, each justified:
// - swift-argument-parser: memifctl's command line.
// - swift-log: control-plane logging (connects, disconnect reasons); never on the data path.
// System libraries (no package dependency):
// - libaccel-config (CAccelConfig): DSA work-queue discovery. Headers only at build time; the
//   library is dlopen()ed at discovery, so binaries start on nodes that do not have it (most
//   nodes have no DSA). No `pkgConfig:` on purpose: its `Libs: -laccel-config` would make
//   every binary that links MemifCopy need libaccel-config.so.1 at start-up.
// - libnuma (CNuma, linked): which NUMA node a memif region is on. libnuma1 ships with DPDK.
// - libcurl (CMemifCurl, libcurl4-openssl-dev): MemifNode's Kubernetes API client; HTTPS with the
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
        .library(name: "MemifCopy", targets: ["MemifCopy"]),
        .library(name: "MemifCNI", targets: ["MemifCNI"]),
        .library(name: "MemifNode", targets: ["MemifNode"]),
        .executable(name: "memifctl", targets: ["memifctl"]),
        .executable(name: "memif-cni", targets: ["memif-cni"]),
        .executable(name: "memifd", targets: ["memifd"]),
        .executable(name: "l3fwd", targets: ["l3fwd"]),
        .executable(name: "reflector", targets: ["reflector"]),
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
        // Copy engines (CPU, Intel DSA, DSA work-queue model): reference/dsa.md.
        .target(name: "CMemifDSA", cSettings: [.define("_GNU_SOURCE")]),
        .systemLibrary(name: "CAccelConfig", providers: [.apt(["libaccel-config-dev", "uuid-dev"])]),
        .systemLibrary(name: "CNuma", providers: [.apt(["libnuma-dev"])]),
        .target(
            name: "MemifCopy",
            dependencies: ["Memif", "CMemifDSA", "CAccelConfig", "CNuma", "CMemifLinux"],
            swiftSettings: strict
        ),
        // CNI spec types, the plugin's command logic and the memif-cni <-> memifd protocol.
        // No Foundation: memif-cni starts once per pod and must start fast.
        .target(name: "MemifCNI", dependencies: ["MemifSteering"], swiftSettings: strict),
        .executableTarget(name: "memif-cni", dependencies: ["MemifCNI"], swiftSettings: strict),
        // libcurl for the Kubernetes API client (in-cluster CA + bearer token over HTTPS): the
        // system library every distribution ships, instead of a Swift HTTP stack to build.
        .target(name: "CMemifCurl", linkerSettings: [.linkedLibrary("curl")]),
        // memifd's logic: attachments, netns grants, state file, CNI server, metrics, kernel-mode
        // port steering, Kubernetes pod lookup.
        .target(
            name: "MemifNode",
            dependencies: [
                "Memif", "MemifCNI", "MemifPacket", "MemifSteering", "CMemifLinux", "CMemifCurl",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "memifd",
            dependencies: [
                "MemifNode", "MemifCNI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "memifctl",
            dependencies: [
                "Memif", "MemifCNI",
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
        .target(name: "Reflector", dependencies: ["MemifKit"], path: "samples/reflector/Sources/Reflector", swiftSettings: strict),
        .executableTarget(
            name: "reflector",
            dependencies: ["Reflector", "CMemifLinux", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "samples/reflector/Sources/reflector", swiftSettings: strict),
        // Benchmarks: per-packet allocation, instruction and runtime-call counts (docs/performance.md).
        .target(name: "CMallocCounter", path: "Benchmarks/Sources/CMallocCounter"),
        .executableTarget(
            name: "memif-bench",
            dependencies: [
                "Memif", "MemifKit", "MemifSteering", "MemifCopy", "CMallocCounter",
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
        .testTarget(name: "L3ForwardingTests", dependencies: ["L3Forwarding"], swiftSettings: strict),
        .testTarget(name: "ReflectorTests", dependencies: ["Reflector"], swiftSettings: strict),
        .testTarget(name: "IntegrationTests", dependencies: ["Memif", "MemifPacket", "MemifCopy", "CMemifLinux"], swiftSettings: strict),
        .testTarget(
            name: "MemifCopyTests", dependencies: ["MemifCopy", "Memif", "CMemifDSA", "CMemifLinux"], swiftSettings: strict),
        .testTarget(name: "MemifCNITests", dependencies: ["MemifCNI"], swiftSettings: strict),
        .testTarget(
            name: "MemifNodeTests", dependencies: ["MemifNode", "MemifCNI", "Memif", "MemifPacket", "MemifSteering", "CMemifLinux"],
            swiftSettings: strict),
    ]
)
