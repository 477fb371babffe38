// Package revsgd studies how the composition order of optimizer updates changes convergence: forward SGD computes
// θ_n = T_n∘…∘T_1(θ_0), backward SGD θ_n = T_1∘…∘T_n(θ_0). The library lives under pkg/; see the README.
package revsgd

// Version is the library version. It is part of every stored run's identity, so results of different versions
// are never mixed.
const Version = "0.3.2"
