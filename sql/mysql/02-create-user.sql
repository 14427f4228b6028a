-- pixyproxy on MySQL 8 / MariaDB 10.6+: step 2 of 3, run as an administrator.
--   mariadb -u root -p < sql/mysql/02-create-user.sql
--
-- Replace CHANGE-ME with a strong password before running, and use the same password in
-- DATABASE_URL=mysql://pixyproxy:PASSWORD@HOST:3306/pixyproxy. Narrow '%' to the host or subnet
-- the application connects from.
--
-- Least privilege: the application only reads and writes rows. It never needs DDL at run time
-- because the DBA creates the tables with 03-create-tables.sql, which also records the schema versions
-- in schema_migration; the start-up migration step then finds nothing to do and issues no DDL.
--
-- A later pixyproxy release that adds a migration needs CREATE, ALTER, INDEX, DROP and REFERENCES
-- for that one step. Either apply the release's SQL by hand, or run `pixyproxy migrate` once with an
-- administrative DATABASE_URL, then start the service with this user again. (Granting those
-- privileges to this user permanently also works, and lets start-up migrate by itself, at the cost
-- of letting a compromised application change the schema.)

CREATE USER IF NOT EXISTS 'pixyproxy'@'%' IDENTIFIED BY 'CHANGE-ME';

GRANT SELECT, INSERT, UPDATE, DELETE ON `pixyproxy`.* TO 'pixyproxy'@'%';
