// The Go net/http server the service replaces, as the tutorial writes it:
// every request to /example gets 401 and {"message":"Unauthorized"}. Like
// the tutorial it sets Content-Type after WriteHeader, so the header is
// ignored; only the listening address is new, so the benchmark can choose it.
//
// Usage: go build -o tutorial main.go && ./tutorial 127.0.0.1:PORT
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
)

func handleRequest(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusUnauthorized)
	w.Header().Set("Content-Type", "application/json")
	resp := make(map[string]string)
	resp["message"] = "Unauthorized"
	jsonResp, err := json.Marshal(resp)
	if err != nil {
		log.Fatalf("Error happened in JSON marshal. Err: %s", err)
	}
	w.Write(jsonResp)
}

func main() {
	address := ":8080"
	if len(os.Args) > 1 {
		address = os.Args[1]
	}
	http.HandleFunc("/example", handleRequest)
	fmt.Printf("listening on http://%s\n", address)
	log.Fatal(http.ListenAndServe(address, nil))
}
