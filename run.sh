#!/usr/bin/env bash
# Set up a fresh Debian machine and run yomitori:  ./run.sh demo   |   ./run.sh test   |   ./run.sh screenshots
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(python3-venv python3-pip fonts-noto-cjk fonts-ipafont-gothic fonts-ipafont-mincho
              fonts-seto fonts-kiloji tesseract-ocr tesseract-ocr-jpn
              redis-server postgresql chromium poppler-utils)
VENV=${YOMITORI_VENV:-.venv}

system_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  echo "installing Debian packages: ${missing[*]}" >&2
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

python_env() {
  # Re-install only when pyproject.toml changed since the last install.
  if [ ! -f "$VENV/.installed" ] || [ pyproject.toml -nt "$VENV/.installed" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip >/dev/null
    "$VENV/bin/pip" install -q -e '.[dev,train]'  # train: the CPU torch wheel, for the classifier's training test
    touch "$VENV/.installed"
  fi
}

case "${1:-}" in
  demo)
    system_packages; python_env
    mkdir -p out
    # with the demo city's generated master (examples/masters): matches, its characters, 送付先誤り, 支援措置
    "$VENV/bin/yomitori" extract samples/*.* --master examples/masters --out out/demo.jsonl
    echo "wrote out/demo.jsonl ($(wc -l < out/demo.jsonl) documents); first record:" >&2
    head -n 1 out/demo.jsonl
    ;;
  test)
    system_packages; python_env
    "$VENV/bin/ruff" check .
    "$VENV/bin/pytest"
    ;;
  screenshots)
    # The README's pictures (docs/screenshots/*.png), taken from the running app by the browser tests; tests
    # otherwise write only to temporary folders (tests/conftest.py: the `screenshots` fixture).
    system_packages; python_env
    YOMITORI_SCREENSHOTS="$PWD/docs/screenshots" "$VENV/bin/pytest" -q tests/test_review_browser.py \
      tests/test_bots_admin_ui.py tests/test_template_editor.py \
      -k "keyboard_only or field_wise_correction or batch_list or step_screenshots or open_move_a_box"
    git status --short docs/screenshots
    ;;
  *)
    echo "usage: $0 demo|test|screenshots" >&2; exit 2 ;;
esac
