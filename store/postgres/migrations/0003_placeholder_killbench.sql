-- Placeholder kept only on the killbench branch so that migration 0004 loads
-- (versions must be contiguous). Version 3 belongs to another branch: when
-- merging, delete this file and keep that branch's 0003.
SELECT 1;
