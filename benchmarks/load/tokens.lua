-- wrk script for `loadbench.py --verifier`: GET the URL with a bearer
-- token, each request the next line of the file named by the script's
-- argument, in turn; the requests are formatted once, before the load.
local requests = {}
local next_request = 1

function init(args)
  for token in io.lines(args[1]) do
    requests[#requests + 1] =
      wrk.format(nil, nil, { Authorization = "Bearer " .. token })
  end
  if #requests == 0 then
    error("no token in " .. args[1])
  end
end

function request()
  local request = requests[next_request]
  next_request = next_request % #requests + 1
  return request
end
