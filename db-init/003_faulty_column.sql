-- An operator flags bad fixes; every processor read filters faulty = false.
-- Separate from 002 so that 002 stays "what the processor writes".
ALTER TABLE positions ADD COLUMN IF NOT EXISTS faulty boolean NOT NULL DEFAULT false;

CREATE INDEX IF NOT EXISTS positions_valid_device_id_ts_idx
    ON positions (device_id, ts DESC)
    WHERE faulty = false;
