// Builds keyway-android.aar. `./gradlew assembleRelease` first runs build-native.sh (cargo-ndk
// for each ABI, then the in-repo bindgen for the Kotlin); pass -Pkeyway.skipNative=true to
// package what build/rust already holds.
plugins {
    id("com.android.library") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.1.0"
}

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
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    // The generated Kotlin calls libkeyway_ffi.so through JNA; the aar carries JNA's own .so per ABI.
    implementation("net.java.dev.jna:jna:5.15.0@aar")
    // suspend calls and Flow are part of the public API.
    api("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.9.0")

    testImplementation("junit:junit:4.13.2")
    testImplementation("net.java.dev.jna:jna:5.15.0")
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
