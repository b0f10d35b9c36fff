-- The read databases of the compose topology (the write database is
-- created by the postgres image from POSTGRES_DB).
CREATE DATABASE lapor_read_primary;
CREATE DATABASE lapor_read_replica1;
CREATE DATABASE lapor_read_replica2;
