-- SPDX-License-Identifier: Apache-2.0
-- pandoc filter for the man pages: the level-1 heading "name(N)" goes
-- (the .TH line comes from the title and section metadata), and every
-- "## SECTION" moves up one level to become a man section (.SH).
function Header(h)
  if h.level == 1 then
    return {}
  end
  h.level = h.level - 1
  return h
end
