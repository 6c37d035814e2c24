#!/usr/bin/env python3
"""A Maven repository folder with keyway-android's AAR and its POM, without Gradle.

    package_maven.py AAR OUT_DIR        writes OUT_DIR/app/keyway/keyway-android/<version>/...
    package_maven.py --check-pom POM    checks a POM (this script's, or Gradle's maven-publish one)

The POM names what the AAR needs at run time, with the versions of
android/gradle/libs.versions.toml (the catalog build.gradle.kts uses):
  net.java.dev.jna:jna (type aar, >= 5.17.0: the first with 16 KB-aligned libjnidispatch.so),
  org.jetbrains.kotlinx:kotlinx-coroutines-android, and rustls:rustls-platform-verifier
  (type aar) at the version of the crate rustls-platform-verifier-android in Cargo.lock.
Each file gets the .md5/.sha1/.sha256/.sha512 files Maven and Gradle look for, and the
artifact folder a maven-metadata.xml. An app adds OUT_DIR as a repository (android/README.md).
Gradle users with the Android SDK can use `./gradlew publishReleasePublicationToKeywayRepository`
instead; --check-pom applies the same checks to its POM.
"""
import hashlib
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CATALOG = HERE / "gradle" / "libs.versions.toml"
CARGO_LOCK = HERE.parent / "Cargo.lock"
GROUP, ARTIFACT = "app.keyway", "keyway-android"
NS = "http://maven.apache.org/POM/4.0.0"
MIN_JNA = (5, 17, 0)


class PackagingError(Exception):
    """The inputs cannot make a valid repository."""


def catalog_versions(path=CATALOG):
    """The [versions] table of the version catalog (simple `name = "value"` lines)."""
    versions, section = {}, None
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "versions" and "=" in line:
            name, value = (x.strip() for x in line.split("=", 1))
            versions[name] = value.strip('"')
    for needed in ("keyway", "jna", "coroutines"):
        if needed not in versions:
            raise PackagingError(f"{path} has no version '{needed}'")
    return versions


def crate_version(name, lock=CARGO_LOCK):
    """The version of crate `name` in Cargo.lock."""
    lines = Path(lock).read_text().splitlines()
    for i, line in enumerate(lines):
        if line.strip() == f'name = "{name}"':
            for following in lines[i + 1:i + 4]:
                m = re.match(r'\s*version = "([^"]+)"', following)
                if m:
                    return m.group(1)
    raise PackagingError(f"{name} is not in {lock}")


def dependencies(versions):
    """(group, artifact, version, type or None, scope) of each run-time dependency."""
    return [
        ("net.java.dev.jna", "jna", versions["jna"], "aar", "compile"),
        ("org.jetbrains.kotlinx", "kotlinx-coroutines-android", versions["coroutines"], None, "compile"),
        ("rustls", "rustls-platform-verifier", crate_version("rustls-platform-verifier-android"), "aar", "runtime"),
    ]


def pom_xml(version, deps):
    """The POM text."""
    ET.register_namespace("", NS)
    project = ET.Element(f"{{{NS}}}project")
    for tag, text in (("modelVersion", "4.0.0"), ("groupId", GROUP), ("artifactId", ARTIFACT),
                      ("version", version), ("packaging", "aar"), ("name", ARTIFACT),
                      ("description", "Keyway door access for Android: the Rust core, its Kotlin API, BluetoothGatt, Keystore.")):
        ET.SubElement(project, f"{{{NS}}}{tag}").text = text
    listed = ET.SubElement(project, f"{{{NS}}}dependencies")
    for group, artifact, dep_version, dep_type, scope in deps:
        d = ET.SubElement(listed, f"{{{NS}}}dependency")
        ET.SubElement(d, f"{{{NS}}}groupId").text = group
        ET.SubElement(d, f"{{{NS}}}artifactId").text = artifact
        ET.SubElement(d, f"{{{NS}}}version").text = dep_version
        if dep_type:
            ET.SubElement(d, f"{{{NS}}}type").text = dep_type
        ET.SubElement(d, f"{{{NS}}}scope").text = scope
    ET.indent(project)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(project, encoding="unicode") + "\n"


def version_tuple(text):
    return tuple(int(x) for x in re.findall(r"\d+", text)[:3])


def check_pom(text):
    """Problems with a POM for keyway-android (empty: fine)."""
    problems = []
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        return [f"not XML: {e}"]
    q = lambda tag: f"{{{NS}}}{tag}"
    if root.tag != q("project"):
        return ["the root element is not a Maven project"]
    if (root.findtext(q("groupId")), root.findtext(q("artifactId"))) != (GROUP, ARTIFACT):
        problems.append("not app.keyway:keyway-android")
    if root.findtext(q("packaging")) != "aar":
        problems.append("packaging is not aar")
    deps = {}
    for d in root.iter(q("dependency")):
        deps[(d.findtext(q("groupId")), d.findtext(q("artifactId")))] = d
    jna = deps.get(("net.java.dev.jna", "jna"))
    if jna is None:
        problems.append("JNA is not a dependency")
    else:
        if version_tuple(jna.findtext(q("version")) or "0") < MIN_JNA:
            problems.append(f"JNA {jna.findtext(q('version'))} is older than 5.17.0 (not 16 KB-aligned)")
        if jna.findtext(q("type")) != "aar":
            problems.append("JNA is not the aar (the jar has no Android libjnidispatch.so)")
        if jna.findtext(q("scope")) in ("test", "provided"):
            problems.append("JNA is not a run-time dependency")
    coroutines = deps.get(("org.jetbrains.kotlinx", "kotlinx-coroutines-android"))
    if coroutines is None:
        problems.append("kotlinx-coroutines-android is not a dependency")
    elif coroutines.findtext(q("scope")) in ("test", "provided"):
        problems.append("kotlinx-coroutines-android is not a run-time dependency")
    if ("rustls", "rustls-platform-verifier") not in deps:
        problems.append("rustls-platform-verifier (the TLS verifier's Kotlin half) is not a dependency")
    for (group, artifact), d in deps.items():
        if not d.findtext(q("version")):
            problems.append(f"{group}:{artifact} has no version")
    return problems


def write_with_checksums(path, data):
    path.write_bytes(data)
    for algorithm in ("md5", "sha1", "sha256", "sha512"):
        Path(f"{path}.{algorithm}").write_text(hashlib.new(algorithm, data).hexdigest())


def package(aar, out):
    """Writes the repository; returns the POM's path."""
    with zipfile.ZipFile(aar) as archive:
        names = set(archive.namelist())
    for needed in ("AndroidManifest.xml", "classes.jar"):
        if needed not in names:
            raise PackagingError(f"{aar} is not an AAR: no {needed}")
    versions = catalog_versions()
    version = versions["keyway"]
    folder = Path(out) / GROUP.replace(".", "/") / ARTIFACT / version
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / f"{ARTIFACT}-{version}"
    write_with_checksums(Path(f"{base}.aar"), Path(aar).read_bytes())
    pom = pom_xml(version, dependencies(versions))
    problems = check_pom(pom)
    if problems:
        raise PackagingError("the POM written is wrong: " + "; ".join(problems))
    write_with_checksums(Path(f"{base}.pom"), pom.encode())
    metadata = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<metadata>\n'
        f"  <groupId>{GROUP}</groupId>\n  <artifactId>{ARTIFACT}</artifactId>\n"
        f"  <versioning>\n    <latest>{version}</latest>\n    <release>{version}</release>\n"
        f"    <versions>\n      <version>{version}</version>\n    </versions>\n  </versioning>\n</metadata>\n"
    )
    write_with_checksums(folder.parent / "maven-metadata.xml", metadata.encode())
    return Path(f"{base}.pom")


def main(argv):
    try:
        if len(argv) == 3 and argv[1] == "--check-pom":
            problems = check_pom(Path(argv[2]).read_text())
            for p in problems:
                print(f"{argv[2]}: {p}")
            if not problems:
                print(f"{argv[2]}: names JNA (aar, >= 5.17), kotlinx-coroutines-android and rustls-platform-verifier")
            return 1 if problems else 0
        if len(argv) == 3:
            pom = package(argv[1], argv[2])
            print(f"wrote {pom} and the AAR beside it")
            return 0
    except (PackagingError, OSError, zipfile.BadZipFile) as e:
        print(f"package_maven: {e}", file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
