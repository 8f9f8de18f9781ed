-- SPDX-License-Identifier: Apache-2.0
-- TPC-H-like data generated in SQL (DuckDB functions through Tarn's SQL session): the 8 TPC-H tables with the
-- spec's cardinalities, key layout (sparse order keys, the partsupp supplier formula), value domains and word
-- lists, pseudo-random values from hash(key, salt), so a rerun yields the same data. Not dbgen output: query
-- answers differ from the official ones. ${SF} (scale factor), ${SUPPLIERS}, ${PARTS}, ${CUSTOMERS},
-- ${ORDERS} and ${CLERKS} are substituted by bench/tpch_bench.py; tables are created as Delta tables (CTAS).

-- Macros live in the engine's in-memory database (seen by the Delta writer's connections, gone at exit).
-- rnd(k, salt, lo, hi): uniform integer in [lo, hi]; pick(k, salt, list): one element of a list.
CREATE OR REPLACE MACRO rnd(k, salt, lo, hi) AS
  CAST(lo AS BIGINT) + CAST(hash(k, salt) % CAST(hi - lo + 1 AS UBIGINT) AS BIGINT);
CREATE OR REPLACE MACRO pick(k, salt, list) AS list[1 + CAST(hash(k, salt) % CAST(len(list) AS UBIGINT) AS BIGINT)];
CREATE OR REPLACE MACRO word(k, salt) AS pick(k, salt, ['furiously', 'quickly', 'carefully', 'blithely',
  'slyly', 'fluffily', 'regular', 'final', 'ironic', 'express', 'pending', 'bold', 'special', 'even', 'silent',
  'unusual', 'deposits', 'requests', 'accounts', 'packages', 'instructions', 'theodolites', 'foxes', 'pinto',
  'beans', 'asymptotes', 'dependencies', 'excuses', 'platelets', 'ideas', 'courts', 'dolphins', 'sleep', 'wake',
  'are', 'haggle', 'nag', 'use', 'boost', 'affix', 'detect', 'integrate', 'cajole', 'among', 'across', 'after']);
CREATE OR REPLACE MACRO color(k, salt) AS pick(k, salt, ['almond', 'antique', 'aquamarine', 'azure',
  'beige', 'bisque', 'black', 'blanched', 'blue', 'blush', 'brown', 'burlywood', 'burnished', 'chartreuse',
  'chiffon', 'chocolate', 'coral', 'cornflower', 'cornsilk', 'cream', 'cyan', 'dark', 'deep', 'dim', 'dodger',
  'drab', 'firebrick', 'floral', 'forest', 'frosted', 'gainsboro', 'ghost', 'goldenrod', 'green', 'grey', 'honeydew',
  'hot', 'indian', 'ivory', 'khaki', 'lace', 'lavender', 'lawn', 'lemon', 'light', 'lime', 'linen', 'magenta',
  'maroon', 'medium', 'metallic', 'midnight', 'mint', 'misty', 'moccasin', 'navajo', 'navy', 'olive', 'orange',
  'orchid', 'pale', 'papaya', 'peach', 'peru', 'pink', 'plum', 'powder', 'puff', 'purple', 'red', 'rose', 'rosy',
  'royal', 'saddle', 'salmon', 'sandy', 'seashell', 'sienna', 'sky', 'slate', 'smoke', 'snow', 'spring', 'steel',
  'tan', 'thistle', 'tomato', 'turquoise', 'violet', 'wheat', 'white', 'yellow']);
CREATE OR REPLACE MACRO text_of(k, salt, n) AS
  concat_ws(' ', word(k, salt), word(k, salt + 1), word(k, salt + 2),
            CASE WHEN n > 3 THEN word(k, salt + 3) END, CASE WHEN n > 4 THEN word(k, salt + 4) END,
            CASE WHEN n > 5 THEN word(k, salt + 5) END, CASE WHEN n > 6 THEN word(k, salt + 6) END);
CREATE OR REPLACE MACRO address_of(k, salt) AS
  substr(md5(CAST(hash(k, salt) AS VARCHAR)), 1, CAST(10 + hash(k, salt + 1) % 30 AS BIGINT));
CREATE OR REPLACE MACRO phone_of(nation, k, salt) AS
  CAST(nation + 10 AS VARCHAR) || '-' || CAST(rnd(k, salt, 100, 999) AS VARCHAR) || '-' ||
  CAST(rnd(k, salt + 1, 100, 999) AS VARCHAR) || '-' || CAST(rnd(k, salt + 2, 1000, 9999) AS VARCHAR);
CREATE OR REPLACE MACRO money(k, salt, lo_cents, hi_cents) AS CAST(rnd(k, salt, lo_cents, hi_cents) / 100.0 AS DECIMAL(15, 2));
CREATE OR REPLACE MACRO retail_price(pk) AS
  CAST((90000 + CAST(floor(pk / 10) AS BIGINT) % 20001 + 100 * (pk % 1000)) / 100.0 AS DECIMAL(15, 2));
-- The i-th (0..3) supplier of part pk, as in the spec.
CREATE OR REPLACE MACRO part_supplier(pk, i) AS
  CAST((pk + i * (CAST(floor(${SUPPLIERS} / 4) AS BIGINT) + CAST(floor((pk - 1) / ${SUPPLIERS}) AS BIGINT)))
       % ${SUPPLIERS} + 1 AS INTEGER);

CREATE TABLE region AS
SELECT CAST(k AS INTEGER) AS r_regionkey, ['AFRICA', 'AMERICA', 'ASIA', 'EUROPE', 'MIDDLE EAST'][k + 1] AS r_name,
       text_of(k, 1, 6) AS r_comment
FROM range(0, 5) t(k);

CREATE TABLE nation AS
SELECT CAST(k AS INTEGER) AS n_nationkey,
       ['ALGERIA', 'ARGENTINA', 'BRAZIL', 'CANADA', 'EGYPT', 'ETHIOPIA', 'FRANCE', 'GERMANY', 'INDIA', 'INDONESIA',
        'IRAN', 'IRAQ', 'JAPAN', 'JORDAN', 'KENYA', 'MOROCCO', 'MOZAMBIQUE', 'PERU', 'CHINA', 'ROMANIA',
        'SAUDI ARABIA', 'VIETNAM', 'RUSSIA', 'UNITED KINGDOM', 'UNITED STATES'][k + 1] AS n_name,
       CAST([0, 1, 1, 1, 4, 0, 3, 3, 2, 2, 4, 4, 2, 4, 0, 0, 0, 1, 2, 3, 4, 2, 3, 3, 1][k + 1] AS INTEGER) AS n_regionkey,
       text_of(k, 2, 7) AS n_comment
FROM range(0, 25) t(k);

CREATE TABLE supplier AS
SELECT CAST(k AS INTEGER) AS s_suppkey, 'Supplier#' || lpad(CAST(k AS VARCHAR), 9, '0') AS s_name,
       address_of(k, 3) AS s_address, CAST(rnd(k, 5, 0, 24) AS INTEGER) AS s_nationkey,
       phone_of(rnd(k, 5, 0, 24), k, 6) AS s_phone, money(k, 9, -99999, 999999) AS s_acctbal,
       CASE WHEN hash(k, 10) % 2000 = 0 THEN word(k, 11) || ' Customer ' || word(k, 12) || ' Complaints'
            WHEN hash(k, 10) % 2000 = 1 THEN word(k, 11) || ' Customer ' || word(k, 12) || ' Recommends'
            ELSE text_of(k, 13, 6) END AS s_comment
FROM range(1, ${SUPPLIERS} + 1) t(k);

CREATE TABLE part AS
SELECT CAST(k AS INTEGER) AS p_partkey,
       concat_ws(' ', c1, c2, c3, c4, c5) AS p_name,
       'Manufacturer#' || CAST(m AS VARCHAR) AS p_mfgr,
       'Brand#' || CAST(m AS VARCHAR) || CAST(rnd(k, 21, 1, 5) AS VARCHAR) AS p_brand,
       pick(k, 22, ['STANDARD', 'SMALL', 'MEDIUM', 'LARGE', 'ECONOMY', 'PROMO']) || ' ' ||
         pick(k, 23, ['ANODIZED', 'BURNISHED', 'PLATED', 'POLISHED', 'BRUSHED']) || ' ' ||
         pick(k, 24, ['TIN', 'NICKEL', 'BRASS', 'STEEL', 'COPPER']) AS p_type,
       CAST(rnd(k, 25, 1, 50) AS INTEGER) AS p_size,
       pick(k, 26, ['SM', 'LG', 'MED', 'JUMBO', 'WRAP']) || ' ' ||
         pick(k, 27, ['CASE', 'BOX', 'BAG', 'JAR', 'PKG', 'PACK', 'CAN', 'DRUM']) AS p_container,
       retail_price(k) AS p_retailprice, text_of(k, 28, 4) AS p_comment
FROM (SELECT k, rnd(k, 20, 1, 5) AS m, color(k, 14) AS c1, color(k, 15) AS c2, color(k, 16) AS c3,
             color(k, 17) AS c4, color(k, 18) AS c5
      FROM range(1, ${PARTS} + 1) t(k));

CREATE TABLE partsupp AS
SELECT CAST(k AS INTEGER) AS ps_partkey, part_supplier(k, i) AS ps_suppkey,
       CAST(rnd(k * 4 + i, 31, 1, 9999) AS INTEGER) AS ps_availqty, money(k * 4 + i, 32, 100, 100000) AS ps_supplycost,
       text_of(k * 4 + i, 33, 7) AS ps_comment
FROM range(1, ${PARTS} + 1) t(k), range(0, 4) s(i);

CREATE TABLE customer AS
SELECT CAST(k AS INTEGER) AS c_custkey, 'Customer#' || lpad(CAST(k AS VARCHAR), 9, '0') AS c_name,
       address_of(k, 41) AS c_address, CAST(rnd(k, 43, 0, 24) AS INTEGER) AS c_nationkey,
       phone_of(rnd(k, 43, 0, 24), k, 44) AS c_phone, money(k, 47, -99999, 999999) AS c_acctbal,
       pick(k, 48, ['AUTOMOBILE', 'BUILDING', 'FURNITURE', 'MACHINERY', 'HOUSEHOLD']) AS c_mktsegment,
       text_of(k, 49, 7) AS c_comment
FROM range(1, ${CUSTOMERS} + 1) t(k);

-- Orders before their lines: keys, dates and customers; status and total price come from the lines below.
CREATE OR REPLACE MACRO tpch_order_base() AS TABLE
SELECT o_orderkey, CAST(CASE WHEN c % 3 = 0 THEN c - 1 ELSE c END AS INTEGER) AS o_custkey,
       CAST(DATE '1992-01-01' + CAST(rnd(o_orderkey, 52, 0, 2405) AS INTEGER) AS DATE) AS o_orderdate,
       rnd(o_orderkey, 53, 1, 7) AS line_count
FROM (SELECT CAST(floor(j / 8) AS BIGINT) * 32 + j % 8 + 1 AS o_orderkey FROM range(0, ${ORDERS}) t(j)) keys,
     LATERAL (SELECT rnd(o_orderkey, 51, 1, ${CUSTOMERS}) AS c) cust;

CREATE TABLE lineitem AS
SELECT o_orderkey AS l_orderkey, CAST(pk AS INTEGER) AS l_partkey, part_supplier(pk, rnd(lk, 62, 0, 3)) AS l_suppkey,
       CAST(ln AS INTEGER) AS l_linenumber, CAST(q AS DECIMAL(15, 2)) AS l_quantity,
       CAST(q * retail_price(pk) AS DECIMAL(15, 2)) AS l_extendedprice, money(lk, 64, 0, 10) AS l_discount,
       money(lk, 65, 0, 8) AS l_tax,
       CASE WHEN receipt <= DATE '1995-06-17' THEN pick(lk, 66, ['R', 'A']) ELSE 'N' END AS l_returnflag,
       CASE WHEN ship > DATE '1995-06-17' THEN 'O' ELSE 'F' END AS l_linestatus,
       ship AS l_shipdate, CAST(o_orderdate + CAST(rnd(lk, 67, 30, 90) AS INTEGER) AS DATE) AS l_commitdate,
       receipt AS l_receiptdate,
       pick(lk, 68, ['DELIVER IN PERSON', 'COLLECT COD', 'NONE', 'TAKE BACK RETURN']) AS l_shipinstruct,
       pick(lk, 69, ['REG AIR', 'AIR', 'RAIL', 'SHIP', 'TRUCK', 'MAIL', 'FOB']) AS l_shipmode,
       text_of(lk, 70, 4) AS l_comment
FROM (SELECT o_orderkey, o_orderdate, ln, lk, rnd(lk, 61, 1, ${PARTS}) AS pk, rnd(lk, 63, 1, 50) AS q, ship,
             CAST(ship + CAST(rnd(lk, 71, 1, 30) AS INTEGER) AS DATE) AS receipt
      FROM (SELECT o_orderkey, o_orderdate, ln, o_orderkey * 8 + ln AS lk,
                   CAST(o_orderdate + CAST(rnd(o_orderkey * 8 + ln, 60, 1, 121) AS INTEGER) AS DATE) AS ship
            FROM tpch_order_base(), range(1, 8) l(ln)
            WHERE ln <= line_count));

CREATE TABLE orders AS
SELECT b.o_orderkey, b.o_custkey,
       CASE WHEN l.all_f THEN 'F' WHEN l.all_o THEN 'O' ELSE 'P' END AS o_orderstatus,
       CAST(l.total AS DECIMAL(15, 2)) AS o_totalprice, b.o_orderdate,
       pick(b.o_orderkey, 81, ['1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW']) AS o_orderpriority,
       'Clerk#' || lpad(CAST(rnd(b.o_orderkey, 82, 1, ${CLERKS}) AS VARCHAR), 9, '0') AS o_clerk,
       CAST(0 AS INTEGER) AS o_shippriority, text_of(b.o_orderkey, 83, 5) AS o_comment
FROM tpch_order_base() b
JOIN (SELECT l_orderkey, sum(l_extendedprice * (1 + l_tax) * (1 - l_discount)) AS total,
             bool_and(l_linestatus = 'F') AS all_f, bool_and(l_linestatus = 'O') AS all_o
      FROM lineitem GROUP BY l_orderkey) l ON l.l_orderkey = b.o_orderkey;
