-- wrk script for `loadbench.py --beyond-bearer`, its dpop flood: GET the
-- URL with a DPoP-bound token (`Authorization: DPoP <token>`) and a fresh
-- DPoP proof, each request the next line of the proofs file, each proof
-- sent once. Arguments: the proofs file, then the token. The requests are
-- formatted once, before the load. When the proofs run out, the script
-- raises an error, which stops wrk (it exits non-zero with "PANIC:
-- unprotected error"): a proof is never sent twice. Run it with one
-- thread (-t1); done() prints `proofs used: N of M`.
local requests = {}
-- Globals of the thread's Lua state, read by done() through thread:get.
used = 0
minted = 0

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  local file, token = args[1], args[2]
  if file == nil or token == nil then
    error("usage: wrk -s proofs.lua URL -- PROOFS_FILE ACCESS_TOKEN")
  end
  local authorization = "DPoP " .. token
  for proof in io.lines(file) do
    requests[#requests + 1] =
      wrk.format(nil, nil, { Authorization = authorization, DPoP = proof })
  end
  minted = #requests
  if minted == 0 then
    error("no proof in " .. file)
  end
end

function request()
  if used == minted then
    error("all " .. minted .. " proofs used: mint more, a proof is never sent twice")
  end
  used = used + 1
  local request = requests[used]
  -- Sent once: let the collector have it.
  requests[used] = false
  return request
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    io.write(string.format("proofs used: %d of %d\n", thread:get("used"),
                           thread:get("minted")))
  end
end
