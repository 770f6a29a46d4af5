// Package docker holds Curio's container build (Dockerfile) and the compose file for the full
// distributed stack (compose.yaml). It has no Go code of its own: its tests load compose.yaml with
// compose-go and check it against internal/config, the Dockerfile and the code's Kafka topics.
package docker
