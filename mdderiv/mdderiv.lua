-- mdderiv for pandoc as a Lua filter: pandoc --lua-filter "$(mdderiv-pandoc --lua)"
--
-- It hands the whole document to the JSON filter mdderiv-pandoc (the same
-- code path as `pandoc --filter mdderiv-pandoc`), adding what only a Lua
-- filter knows: the names of the input files, so that an error names the
-- file and the line of the block with any reader. MDDERIV_PANDOC may name
-- the command if mdderiv-pandoc is not on PATH.

function Pandoc(doc)
  local args = { FORMAT }
  for _, file in ipairs(PANDOC_STATE.input_files) do
    if file ~= "-" then
      table.insert(args, "--input")
      table.insert(args, file)
    end
  end
  local command = os.getenv("MDDERIV_PANDOC") or "mdderiv-pandoc"
  -- a non-zero exit (strict mode) raises an error here, and pandoc stops
  local out = pandoc.pipe(command, args, pandoc.write(doc, "json"))
  return pandoc.read(out, "json")
end
