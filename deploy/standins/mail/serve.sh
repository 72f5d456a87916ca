#!/bin/sh
# SMTP on 1025 (every message an .eml file in /tmp/mail), the files listed over HTTP on 8025.
set -eu
mkdir -p /tmp/mail
python3 -m http.server 8025 --bind 0.0.0.0 --directory /tmp/mail &
exec python3 /app/mail_catcher.py --host 0.0.0.0 --port 1025 --dir /tmp/mail
