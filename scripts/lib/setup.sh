#!/usr/bin/env bash
# Shared set-up for scripts/test.sh and scripts/demo.sh: installs the Debian
# packages Keyway's build and tests need, once, on a fresh machine.

# libjna-java, junit4: the generated Kotlin runs on the JVM (bindings/kotlin/run-tests.sh);
# npm (for kotlinc, see there) comes with the machine.
# python3-venv: scripts/check-swift.sh installs tree-sitter-swift from PyPI into a venv.
# dbus-daemon, libdbus-1-dev: btleplug (libdbus) and the virtual BlueZ on a private bus.
# openjdk-17-jdk-headless (javac), unzip: android/check-main.sh compiles the Android API
# stubs and tries android/gradlew's bootstrap.
# ca-certificates: the system roots the platform verifier starts from on Linux (tests prove
# a certificate from the run's own CA is refused without the extra root, not by an empty store).
# gnome-keyring, libsecret-tools, dbus-bin: the desktop client's OS-keyring tests run a real
# Secret Service on a private bus, and read it back with secret-tool.
# openssl: the push tests make a service account's RSA key as Google hands one out.
# chromium, libnss3-tools: the backend's invitation pages are loaded in a real headless browser
# (backend/tests/landing_page_browser.rs), which checks their text and takes screenshots;
# certutil adds the run's test CA to the throw-away browser profile's trust store.
KEYWAY_APT_PACKAGES=(pkg-config valgrind dbus-daemon libdbus-1-dev openjdk-17-jre-headless openjdk-17-jdk-headless
  libjna-java junit4 python3-venv unzip ca-certificates gnome-keyring libsecret-tools dbus-bin openssl
  chromium libnss3-tools)

# PyPI packages the backend's tests run (pinned): aiosmtpd is the real SMTP server on loopback
# that the smtp_ and outbox_survives_restart tests send mail to (backend/tests/mail/smtp_sink.py).
KEYWAY_TEST_PYTHON_PACKAGES=(aiosmtpd==1.4.6 atpublic==9.0.0 attrs==26.1.0)

# keyway_test_python: a venv with those packages under the cache; exports KEYWAY_TEST_PYTHON
# (its python), which the backend's tests use.
keyway_test_python() {
  local venv="${KEYWAY_CACHE:-$HOME/.cache/keyway}/test-python"
  local want="${KEYWAY_TEST_PYTHON_PACKAGES[*]}"
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/keyway-packages" 2>/dev/null)" != "$want" ]; then
    echo "==> installing $want into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${KEYWAY_TEST_PYTHON_PACKAGES[@]}"
    echo "$want" > "$venv/keyway-packages"
  fi
  export KEYWAY_TEST_PYTHON="$venv/bin/python"
}

keyway_setup() {
  local missing=()
  for pkg in "${KEYWAY_APT_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      echo "missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
      return 1
    fi
  fi
  keyway_test_python
}
