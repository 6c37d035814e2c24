// Builds keyway-android.aar and publishes it with its POM. `./gradlew assembleRelease` first
// runs build-native.sh (cargo-ndk for each ABI, 16 KB pages, then the in-repo bindgen for the
// Kotlin); pass -Pkeyway.skipNative=true to package what build/rust already holds.
// `./gradlew publishReleasePublicationToKeywayRepository` writes a Maven repository folder
// (build/maven) that an app adds as a repository (README.md).
plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
    `maven-publish`
}

group = "app.keyway"
version = libs.versions.keyway.get()

/** Where build-native.sh puts the generated Kotlin and the per-ABI libraries. */
val rustOut = layout.buildDirectory.dir("rust")

android {
    namespace = "app.keyway.android"
    compileSdk = 35

    defaultConfig {
        minSdk = 26
        consumerProguardFiles("consumer-rules.pro")
        ndk {
            abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64")
        }
    }

    sourceSets {
        getByName("main") {
            // The shell (android.* code), its pure-Kotlin half, and the generated bindings.
            java.srcDirs("src/main/kotlin", "src/shared/kotlin", rustOut.map { it.dir("kotlin") })
            jniLibs.srcDirs(rustOut.map { it.dir("jniLibs") })
        }
        getByName("test") {
            // Pure-Kotlin tests only; src/jvmTest runs against the API stubs (check-main.sh).
            java.srcDirs("src/test/kotlin")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    buildTypes {
        release {
            isMinifyEnabled = false // the app minifies, with consumer-rules.pro
        }
    }

    publishing {
        singleVariant("release") {
            withSourcesJar()
        }
    }
}

kotlin {
    jvmToolchain(17)
}

// rustls-platform-verifier's Kotlin half must be the version of the crate compiled into
// libkeyway_ffi.so: read it from the workspace's Cargo.lock (the crate's README's recipe).
abstract class RustlsVerifierVersion : ValueSource<String, RustlsVerifierVersion.Params> {
    interface Params : ValueSourceParameters {
        val lockFile: RegularFileProperty
    }

    override fun obtain(): String {
        val lines = parameters.lockFile.get().asFile.readLines()
        val at = lines.indexOfFirst { it.trim() == "name = \"rustls-platform-verifier-android\"" }
        val version = if (at < 0) null else lines.drop(at + 1)
            .firstOrNull { it.trimStart().startsWith("version = ") }
            ?.substringAfter('"')?.substringBefore('"')
        return version ?: error("rustls-platform-verifier-android is not in Cargo.lock")
    }
}

val rustlsVerifierVersion = providers.of(RustlsVerifierVersion::class.java) {
    parameters.lockFile.set(rootProject.layout.projectDirectory.file("../Cargo.lock"))
}

configurations.configureEach {
    resolutionStrategy.eachDependency {
        if (requested.group == "rustls" && requested.name == "rustls-platform-verifier") {
            useVersion(rustlsVerifierVersion.get())
            because("the Kotlin half must match the rustls-platform-verifier-android crate in libkeyway_ffi.so")
        }
    }
}

dependencies {
    // The generated Kotlin calls libkeyway_ffi.so through JNA; the aar carries JNA's own
    // libjnidispatch.so per ABI (16 KB-aligned from 5.17 on). `api`: apps see JNA types.
    api("net.java.dev.jna:jna:${libs.versions.jna.get()}@aar")
    // suspend calls and Flow are part of the public API.
    api(libs.kotlinx.coroutines.android)
    // The platform TLS verifier's Kotlin half (org.rustls.platformverifier), called from Rust over JNI.
    implementation(libs.rustls.platform.verifier)

    testImplementation(libs.junit)
    testImplementation(libs.jna)
}

publishing {
    publications {
        register<MavenPublication>("release") {
            groupId = "app.keyway"
            artifactId = "keyway-android"
            version = libs.versions.keyway.get()
            afterEvaluate { from(components["release"]) }
            versionMapping {
                allVariants { fromResolutionResult() } // the POM names the verifier's resolved version
            }
            pom {
                name.set("keyway-android")
                description.set("Keyway door access for Android: the Rust core, its Kotlin API, BluetoothGatt, Keystore.")
            }
        }
    }
    repositories {
        maven {
            name = "keyway"
            url = uri(layout.buildDirectory.dir("maven"))
        }
    }
}

val buildNative by tasks.registering(Exec::class) {
    description = "Builds libkeyway_ffi.so for each ABI with cargo-ndk and generates the Kotlin bindings."
    workingDir = rootDir
    commandLine("bash", "build-native.sh", rustOut.get().asFile.path)
    onlyIf { providers.gradleProperty("keyway.skipNative").orNull != "true" }
}

tasks.named("preBuild") {
    dependsOn(buildNative)
}
