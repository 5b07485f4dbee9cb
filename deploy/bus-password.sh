# Sourced by lib.sh (and its test): a random bus password. Letters and digits only, starting with a
# letter: nats-server parses a `$VAR` value as config, so one starting with a digit reads as a
# number and the server refuses its config.
new_bus_password() {
  echo "p$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
}
