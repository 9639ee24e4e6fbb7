"use strict";

// The curl command for the origin that served this page, whatever its
// address, port or scheme (the HTML says localhost:8080, `cargo run`'s).
document.getElementById("curl").textContent =
  `curl -i -X POST ${location.origin}/example`;

// Sends the chosen request to /example and shows what came back.
const form = document.getElementById("request");
const output = {
  section: document.getElementById("response"),
  status: document.getElementById("status"),
  headers: document.getElementById("headers"),
  body: document.getElementById("body"),
};

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const fields = new FormData(form);
  const headers = { Accept: fields.get("accept") };
  const token = fields.get("token").trim();
  if (token !== "") {
    headers.Authorization = `Bearer ${token}`;
  }

  try {
    const response = await fetch("/example", { method: fields.get("method"), headers });
    show(response, await response.text());
  } catch (error) {
    showFailure(error);
  }
});

function show(response, body) {
  output.status.textContent = `${response.status} ${response.statusText}`.trim();
  output.status.className = response.ok ? "status ok" : "status error";
  output.headers.replaceChildren();
  for (const [name, value] of response.headers) {
    const term = document.createElement("dt");
    term.textContent = name;
    const detail = document.createElement("dd");
    detail.textContent = value;
    output.headers.append(term, detail);
  }
  output.body.textContent = body === "" ? "(empty)" : body;
  output.body.classList.toggle("empty", body === "");
  output.section.hidden = false;
}

function showFailure(error) {
  output.status.textContent = `The request failed: ${error.message}`;
  output.status.className = "status error";
  output.headers.replaceChildren();
  output.body.textContent = "";
  output.section.hidden = false;
}
