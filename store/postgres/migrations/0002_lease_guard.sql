-- Schema version 2: a guard for pipelined completions. A run's outcome and
-- its effects are sent as one batch (one implicit transaction); the guard
-- raises SQLSTATE SPLOS when the run's final UPDATE matched nothing (the
-- caller's lease was lost), which rolls the whole batch back.
CREATE FUNCTION sprocket_lease_held(held boolean) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT held THEN
		RAISE EXCEPTION 'run lease lost' USING ERRCODE = 'SPLOS';
	END IF;
	RETURN true;
END
$$;
