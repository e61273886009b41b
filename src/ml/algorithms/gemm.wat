;; Kernels of the MLP's matrix products (gemm.ts): float64 matrix products
;; with 128-bit SIMD, and the ReLU derivative mask. Assembled by
;; `npm run build:kernels` into gemm.wasm.generated.ts.
;;
;; Memory: imported as env.memory; gemm.ts's MatrixArena allocates every
;; operand in it. Matrices are row-major float64; every pointer and stride
;; below is in bytes, so an operand can be read transposed by swapping its
;; strides.
;;
;; Every element of a result is computed as in this JavaScript, in the same
;; order (a float64×2 lane is two independent float64 sums; no fused
;; multiply-add), so a plain JavaScript product gives the same bits
;; (gemm.test.ts checks that):
;;   sum = init ? init[j] : 0
;;   for (k = 0; k < depth; k++) sum += a[r, k] * b[k, j]
;;   c[r, j] = relu ? (sum > 0 ? sum : 0) : sum
(module
  (import "env" "memory" (memory 1))

  ;; product(rows, cols, depth, a, aRow, aDepth, b, bRow, c, cRow, init, relu)
  ;;
  ;; c[r, j] = init[j] + Σₖ a[r, k] · b[k, j] for r < rows, j < cols, k < depth,
  ;; then max(·, 0) when relu ≠ 0, where
  ;;   a[r, k] is the float64 at a + r·aRow + k·aDepth,
  ;;   b[k, j] at b + k·bRow + 8j, c[r, j] at c + r·cRow + 8j,
  ;;   init[j] at init + 8j; init = 0: no init row (the sums start at 0).
  ;;
  ;; The result is computed in tiles whose sums stay in registers while the
  ;; tile walks the shared dimension: rows in blocks of 4, then 1; columns in
  ;; blocks of 4 (two float64×2 vectors), then 2 (one vector), then 1
  ;; (scalar). In a 4 × 4 tile each step loads 2 vectors of b and 4 values of
  ;; a (each splatted to both lanes) for 8 vector multiply-adds.
  (func (export "product")
    (param $rows i32) (param $cols i32) (param $depth i32)
    (param $a i32) (param $aRow i32) (param $aDepth i32)
    (param $b i32) (param $bRow i32)
    (param $c i32) (param $cRow i32)
    (param $init i32) (param $relu i32)
    ;; $r, $j: the tile's first row and column; $k: the step in the shared dimension
    (local $r i32) (local $j i32) (local $k i32)
    ;; $pa, $pb: where a[r, k] and b[k, j] are; $pc: where the tile's row of c is
    (local $pa i32) (local $pb i32) (local $pc i32)
    ;; $jBytes = 8j; $aRow2, $aRow3: 2 and 3 rows of a, in bytes
    (local $jBytes i32) (local $aRow2 i32) (local $aRow3 i32)
    ;; vector sums of tile row i: $si_01 columns j, j+1; $si_23 columns j+2, j+3
    (local $s0_01 v128) (local $s0_23 v128) (local $s1_01 v128) (local $s1_23 v128)
    (local $s2_01 v128) (local $s2_23 v128) (local $s3_01 v128) (local $s3_23 v128)
    ;; b[k, j … j+3] as two vectors; a[r+i, k] splatted to both lanes
    (local $b01 v128) (local $b23 v128) (local $aik v128)
    ;; scalar sums of tile row i (the last, odd column); b[k, j]
    (local $s0 f64) (local $s1 f64) (local $s2 f64) (local $s3 f64) (local $bkj f64)
    (local.set $aRow2 (i32.add (local.get $aRow) (local.get $aRow)))
    (local.set $aRow3 (i32.add (local.get $aRow2) (local.get $aRow)))
    (local.set $r (i32.const 0))
    ;; rows in blocks of 4
    (block $rows4_done
      (loop $rows4
        (br_if $rows4_done (i32.eqz (i32.le_s (i32.add (local.get $r) (i32.const 4)) (local.get $rows))))
        (local.set $j (i32.const 0))
        ;; columns in blocks of 4
        (block $cols4_done
          (loop $cols4
            (br_if $cols4_done (i32.eqz (i32.le_s (i32.add (local.get $j) (i32.const 4)) (local.get $cols))))
            ;; tile: 4 rows × 4 columns (2 float64×2 vectors) of c, at row $r, column $j
            (local.set $jBytes (i32.shl (local.get $j) (i32.const 3)))
            ;; start from the init row, or 0
            (if (local.get $init)
              (then
                (local.set $s0_01 (v128.load (i32.add (local.get $init) (local.get $jBytes))))
                (local.set $s0_23 (v128.load offset=16 (i32.add (local.get $init) (local.get $jBytes))))
                (local.set $s1_01 (v128.load (i32.add (local.get $init) (local.get $jBytes))))
                (local.set $s1_23 (v128.load offset=16 (i32.add (local.get $init) (local.get $jBytes))))
                (local.set $s2_01 (v128.load (i32.add (local.get $init) (local.get $jBytes))))
                (local.set $s2_23 (v128.load offset=16 (i32.add (local.get $init) (local.get $jBytes))))
                (local.set $s3_01 (v128.load (i32.add (local.get $init) (local.get $jBytes))))
                (local.set $s3_23 (v128.load offset=16 (i32.add (local.get $init) (local.get $jBytes)))))
              (else
                (local.set $s0_01 (v128.const i64x2 0 0))
                (local.set $s0_23 (v128.const i64x2 0 0))
                (local.set $s1_01 (v128.const i64x2 0 0))
                (local.set $s1_23 (v128.const i64x2 0 0))
                (local.set $s2_01 (v128.const i64x2 0 0))
                (local.set $s2_23 (v128.const i64x2 0 0))
                (local.set $s3_01 (v128.const i64x2 0 0))
                (local.set $s3_23 (v128.const i64x2 0 0))))
            ;; walk the shared dimension: $pa at a[r, k], $pb at b[k, j]
            (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $r) (local.get $aRow))))
            (local.set $pb (i32.add (local.get $b) (local.get $jBytes)))
            (local.set $k (i32.const 0))
            (block $k_done
              (loop $k_step
                (br_if $k_done (i32.eqz (i32.lt_s (local.get $k) (local.get $depth))))
                (local.set $b01 (v128.load (local.get $pb)))
                (local.set $b23 (v128.load offset=16 (local.get $pb)))
                (local.set $aik (v128.load64_splat (local.get $pa)))
                (local.set $s0_01 (f64x2.add (local.get $s0_01) (f64x2.mul (local.get $aik) (local.get $b01))))
                (local.set $s0_23 (f64x2.add (local.get $s0_23) (f64x2.mul (local.get $aik) (local.get $b23))))
                (local.set $aik (v128.load64_splat (i32.add (local.get $pa) (local.get $aRow))))
                (local.set $s1_01 (f64x2.add (local.get $s1_01) (f64x2.mul (local.get $aik) (local.get $b01))))
                (local.set $s1_23 (f64x2.add (local.get $s1_23) (f64x2.mul (local.get $aik) (local.get $b23))))
                (local.set $aik (v128.load64_splat (i32.add (local.get $pa) (local.get $aRow2))))
                (local.set $s2_01 (f64x2.add (local.get $s2_01) (f64x2.mul (local.get $aik) (local.get $b01))))
                (local.set $s2_23 (f64x2.add (local.get $s2_23) (f64x2.mul (local.get $aik) (local.get $b23))))
                (local.set $aik (v128.load64_splat (i32.add (local.get $pa) (local.get $aRow3))))
                (local.set $s3_01 (f64x2.add (local.get $s3_01) (f64x2.mul (local.get $aik) (local.get $b01))))
                (local.set $s3_23 (f64x2.add (local.get $s3_23) (f64x2.mul (local.get $aik) (local.get $b23))))
                (local.set $pa (i32.add (local.get $pa) (local.get $aDepth)))
                (local.set $pb (i32.add (local.get $pb) (local.get $bRow)))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $k_step)))
            ;; ReLU: max(sum, 0) when relu ≠ 0 (f64x2.pmax(0, s) is 0 < s ? s : 0, lane by lane)
            (if (local.get $relu)
              (then
                (local.set $s0_01 (f64x2.pmax (v128.const i64x2 0 0) (local.get $s0_01)))
                (local.set $s0_23 (f64x2.pmax (v128.const i64x2 0 0) (local.get $s0_23)))
                (local.set $s1_01 (f64x2.pmax (v128.const i64x2 0 0) (local.get $s1_01)))
                (local.set $s1_23 (f64x2.pmax (v128.const i64x2 0 0) (local.get $s1_23)))
                (local.set $s2_01 (f64x2.pmax (v128.const i64x2 0 0) (local.get $s2_01)))
                (local.set $s2_23 (f64x2.pmax (v128.const i64x2 0 0) (local.get $s2_23)))
                (local.set $s3_01 (f64x2.pmax (v128.const i64x2 0 0) (local.get $s3_01)))
                (local.set $s3_23 (f64x2.pmax (v128.const i64x2 0 0) (local.get $s3_23)))))
            ;; store the tile
            (local.set $pc (i32.add (i32.add (local.get $c) (i32.mul (local.get $r) (local.get $cRow))) (local.get $jBytes)))
            (v128.store (local.get $pc) (local.get $s0_01))
            (v128.store offset=16 (local.get $pc) (local.get $s0_23))
            (local.set $pc (i32.add (local.get $pc) (local.get $cRow)))
            (v128.store (local.get $pc) (local.get $s1_01))
            (v128.store offset=16 (local.get $pc) (local.get $s1_23))
            (local.set $pc (i32.add (local.get $pc) (local.get $cRow)))
            (v128.store (local.get $pc) (local.get $s2_01))
            (v128.store offset=16 (local.get $pc) (local.get $s2_23))
            (local.set $pc (i32.add (local.get $pc) (local.get $cRow)))
            (v128.store (local.get $pc) (local.get $s3_01))
            (v128.store offset=16 (local.get $pc) (local.get $s3_23))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $cols4)))
        ;; then a block of 2
        (if (i32.le_s (i32.add (local.get $j) (i32.const 2)) (local.get $cols))
          (then
            ;; tile: 4 rows × 2 columns (1 float64×2 vector) of c, at row $r, column $j
            (local.set $jBytes (i32.shl (local.get $j) (i32.const 3)))
            ;; start from the init row, or 0
            (if (local.get $init)
              (then
                (local.set $s0_01 (v128.load (i32.add (local.get $init) (local.get $jBytes))))
                (local.set $s1_01 (v128.load (i32.add (local.get $init) (local.get $jBytes))))
                (local.set $s2_01 (v128.load (i32.add (local.get $init) (local.get $jBytes))))
                (local.set $s3_01 (v128.load (i32.add (local.get $init) (local.get $jBytes)))))
              (else
                (local.set $s0_01 (v128.const i64x2 0 0))
                (local.set $s1_01 (v128.const i64x2 0 0))
                (local.set $s2_01 (v128.const i64x2 0 0))
                (local.set $s3_01 (v128.const i64x2 0 0))))
            ;; walk the shared dimension: $pa at a[r, k], $pb at b[k, j]
            (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $r) (local.get $aRow))))
            (local.set $pb (i32.add (local.get $b) (local.get $jBytes)))
            (local.set $k (i32.const 0))
            (block $k_done
              (loop $k_step
                (br_if $k_done (i32.eqz (i32.lt_s (local.get $k) (local.get $depth))))
                (local.set $b01 (v128.load (local.get $pb)))
                (local.set $aik (v128.load64_splat (local.get $pa)))
                (local.set $s0_01 (f64x2.add (local.get $s0_01) (f64x2.mul (local.get $aik) (local.get $b01))))
                (local.set $aik (v128.load64_splat (i32.add (local.get $pa) (local.get $aRow))))
                (local.set $s1_01 (f64x2.add (local.get $s1_01) (f64x2.mul (local.get $aik) (local.get $b01))))
                (local.set $aik (v128.load64_splat (i32.add (local.get $pa) (local.get $aRow2))))
                (local.set $s2_01 (f64x2.add (local.get $s2_01) (f64x2.mul (local.get $aik) (local.get $b01))))
                (local.set $aik (v128.load64_splat (i32.add (local.get $pa) (local.get $aRow3))))
                (local.set $s3_01 (f64x2.add (local.get $s3_01) (f64x2.mul (local.get $aik) (local.get $b01))))
                (local.set $pa (i32.add (local.get $pa) (local.get $aDepth)))
                (local.set $pb (i32.add (local.get $pb) (local.get $bRow)))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $k_step)))
            ;; ReLU: max(sum, 0) when relu ≠ 0 (f64x2.pmax(0, s) is 0 < s ? s : 0, lane by lane)
            (if (local.get $relu)
              (then
                (local.set $s0_01 (f64x2.pmax (v128.const i64x2 0 0) (local.get $s0_01)))
                (local.set $s1_01 (f64x2.pmax (v128.const i64x2 0 0) (local.get $s1_01)))
                (local.set $s2_01 (f64x2.pmax (v128.const i64x2 0 0) (local.get $s2_01)))
                (local.set $s3_01 (f64x2.pmax (v128.const i64x2 0 0) (local.get $s3_01)))))
            ;; store the tile
            (local.set $pc (i32.add (i32.add (local.get $c) (i32.mul (local.get $r) (local.get $cRow))) (local.get $jBytes)))
            (v128.store (local.get $pc) (local.get $s0_01))
            (local.set $pc (i32.add (local.get $pc) (local.get $cRow)))
            (v128.store (local.get $pc) (local.get $s1_01))
            (local.set $pc (i32.add (local.get $pc) (local.get $cRow)))
            (v128.store (local.get $pc) (local.get $s2_01))
            (local.set $pc (i32.add (local.get $pc) (local.get $cRow)))
            (v128.store (local.get $pc) (local.get $s3_01))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))))
        ;; then the last column
        (if (i32.lt_s (local.get $j) (local.get $cols))
          (then
            ;; tile: 4 rows × 1 column (scalar) of c, at row $r, column $j
            (local.set $jBytes (i32.shl (local.get $j) (i32.const 3)))
            ;; start from the init row, or 0
            (if (local.get $init)
              (then
                (local.set $s0 (f64.load (i32.add (local.get $init) (local.get $jBytes))))
                (local.set $s1 (f64.load (i32.add (local.get $init) (local.get $jBytes))))
                (local.set $s2 (f64.load (i32.add (local.get $init) (local.get $jBytes))))
                (local.set $s3 (f64.load (i32.add (local.get $init) (local.get $jBytes)))))
              (else
                (local.set $s0 (f64.const 0))
                (local.set $s1 (f64.const 0))
                (local.set $s2 (f64.const 0))
                (local.set $s3 (f64.const 0))))
            ;; walk the shared dimension: $pa at a[r, k], $pb at b[k, j]
            (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $r) (local.get $aRow))))
            (local.set $pb (i32.add (local.get $b) (local.get $jBytes)))
            (local.set $k (i32.const 0))
            (block $k_done
              (loop $k_step
                (br_if $k_done (i32.eqz (i32.lt_s (local.get $k) (local.get $depth))))
                (local.set $bkj (f64.load (local.get $pb)))
                (local.set $s0 (f64.add (f64.mul (f64.load (local.get $pa)) (local.get $bkj)) (local.get $s0)))
                (local.set $s1 (f64.add (f64.mul (f64.load (i32.add (local.get $pa) (local.get $aRow))) (local.get $bkj)) (local.get $s1)))
                (local.set $s2 (f64.add (f64.mul (f64.load (i32.add (local.get $pa) (local.get $aRow2))) (local.get $bkj)) (local.get $s2)))
                (local.set $s3 (f64.add (f64.mul (f64.load (i32.add (local.get $pa) (local.get $aRow3))) (local.get $bkj)) (local.get $s3)))
                (local.set $pa (i32.add (local.get $pa) (local.get $aDepth)))
                (local.set $pb (i32.add (local.get $pb) (local.get $bRow)))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $k_step)))
            ;; ReLU: max(sum, 0) when relu ≠ 0 (f64x2.pmax(0, s) is 0 < s ? s : 0, lane by lane)
            (if (local.get $relu)
              (then
                (local.set $s0 (select (local.get $s0) (f64.const 0) (f64.gt (local.get $s0) (f64.const 0))))
                (local.set $s1 (select (local.get $s1) (f64.const 0) (f64.gt (local.get $s1) (f64.const 0))))
                (local.set $s2 (select (local.get $s2) (f64.const 0) (f64.gt (local.get $s2) (f64.const 0))))
                (local.set $s3 (select (local.get $s3) (f64.const 0) (f64.gt (local.get $s3) (f64.const 0))))))
            ;; store the tile
            (local.set $pc (i32.add (i32.add (local.get $c) (i32.mul (local.get $r) (local.get $cRow))) (local.get $jBytes)))
            (f64.store (local.get $pc) (local.get $s0))
            (local.set $pc (i32.add (local.get $pc) (local.get $cRow)))
            (f64.store (local.get $pc) (local.get $s1))
            (local.set $pc (i32.add (local.get $pc) (local.get $cRow)))
            (f64.store (local.get $pc) (local.get $s2))
            (local.set $pc (i32.add (local.get $pc) (local.get $cRow)))
            (f64.store (local.get $pc) (local.get $s3))))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rows4)))
    ;; then the remaining rows one by one
    (block $rows1_done
      (loop $rows1
        (br_if $rows1_done (i32.eqz (i32.lt_s (local.get $r) (local.get $rows))))
        (local.set $j (i32.const 0))
        ;; columns in blocks of 4
        (block $cols4_done
          (loop $cols4
            (br_if $cols4_done (i32.eqz (i32.le_s (i32.add (local.get $j) (i32.const 4)) (local.get $cols))))
            ;; tile: 1 row × 4 columns (2 float64×2 vectors) of c, at row $r, column $j
            (local.set $jBytes (i32.shl (local.get $j) (i32.const 3)))
            ;; start from the init row, or 0
            (if (local.get $init)
              (then
                (local.set $s0_01 (v128.load (i32.add (local.get $init) (local.get $jBytes))))
                (local.set $s0_23 (v128.load offset=16 (i32.add (local.get $init) (local.get $jBytes)))))
              (else
                (local.set $s0_01 (v128.const i64x2 0 0))
                (local.set $s0_23 (v128.const i64x2 0 0))))
            ;; walk the shared dimension: $pa at a[r, k], $pb at b[k, j]
            (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $r) (local.get $aRow))))
            (local.set $pb (i32.add (local.get $b) (local.get $jBytes)))
            (local.set $k (i32.const 0))
            (block $k_done
              (loop $k_step
                (br_if $k_done (i32.eqz (i32.lt_s (local.get $k) (local.get $depth))))
                (local.set $b01 (v128.load (local.get $pb)))
                (local.set $b23 (v128.load offset=16 (local.get $pb)))
                (local.set $aik (v128.load64_splat (local.get $pa)))
                (local.set $s0_01 (f64x2.add (local.get $s0_01) (f64x2.mul (local.get $aik) (local.get $b01))))
                (local.set $s0_23 (f64x2.add (local.get $s0_23) (f64x2.mul (local.get $aik) (local.get $b23))))
                (local.set $pa (i32.add (local.get $pa) (local.get $aDepth)))
                (local.set $pb (i32.add (local.get $pb) (local.get $bRow)))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $k_step)))
            ;; ReLU: max(sum, 0) when relu ≠ 0 (f64x2.pmax(0, s) is 0 < s ? s : 0, lane by lane)
            (if (local.get $relu)
              (then
                (local.set $s0_01 (f64x2.pmax (v128.const i64x2 0 0) (local.get $s0_01)))
                (local.set $s0_23 (f64x2.pmax (v128.const i64x2 0 0) (local.get $s0_23)))))
            ;; store the tile
            (local.set $pc (i32.add (i32.add (local.get $c) (i32.mul (local.get $r) (local.get $cRow))) (local.get $jBytes)))
            (v128.store (local.get $pc) (local.get $s0_01))
            (v128.store offset=16 (local.get $pc) (local.get $s0_23))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $cols4)))
        ;; then a block of 2
        (if (i32.le_s (i32.add (local.get $j) (i32.const 2)) (local.get $cols))
          (then
            ;; tile: 1 row × 2 columns (1 float64×2 vector) of c, at row $r, column $j
            (local.set $jBytes (i32.shl (local.get $j) (i32.const 3)))
            ;; start from the init row, or 0
            (if (local.get $init)
              (then
                (local.set $s0_01 (v128.load (i32.add (local.get $init) (local.get $jBytes)))))
              (else
                (local.set $s0_01 (v128.const i64x2 0 0))))
            ;; walk the shared dimension: $pa at a[r, k], $pb at b[k, j]
            (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $r) (local.get $aRow))))
            (local.set $pb (i32.add (local.get $b) (local.get $jBytes)))
            (local.set $k (i32.const 0))
            (block $k_done
              (loop $k_step
                (br_if $k_done (i32.eqz (i32.lt_s (local.get $k) (local.get $depth))))
                (local.set $b01 (v128.load (local.get $pb)))
                (local.set $aik (v128.load64_splat (local.get $pa)))
                (local.set $s0_01 (f64x2.add (local.get $s0_01) (f64x2.mul (local.get $aik) (local.get $b01))))
                (local.set $pa (i32.add (local.get $pa) (local.get $aDepth)))
                (local.set $pb (i32.add (local.get $pb) (local.get $bRow)))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $k_step)))
            ;; ReLU: max(sum, 0) when relu ≠ 0 (f64x2.pmax(0, s) is 0 < s ? s : 0, lane by lane)
            (if (local.get $relu)
              (then
                (local.set $s0_01 (f64x2.pmax (v128.const i64x2 0 0) (local.get $s0_01)))))
            ;; store the tile
            (local.set $pc (i32.add (i32.add (local.get $c) (i32.mul (local.get $r) (local.get $cRow))) (local.get $jBytes)))
            (v128.store (local.get $pc) (local.get $s0_01))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))))
        ;; then the last column
        (if (i32.lt_s (local.get $j) (local.get $cols))
          (then
            ;; tile: 1 row × 1 column (scalar) of c, at row $r, column $j
            (local.set $jBytes (i32.shl (local.get $j) (i32.const 3)))
            ;; start from the init row, or 0
            (if (local.get $init)
              (then
                (local.set $s0 (f64.load (i32.add (local.get $init) (local.get $jBytes)))))
              (else
                (local.set $s0 (f64.const 0))))
            ;; walk the shared dimension: $pa at a[r, k], $pb at b[k, j]
            (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $r) (local.get $aRow))))
            (local.set $pb (i32.add (local.get $b) (local.get $jBytes)))
            (local.set $k (i32.const 0))
            (block $k_done
              (loop $k_step
                (br_if $k_done (i32.eqz (i32.lt_s (local.get $k) (local.get $depth))))
                (local.set $bkj (f64.load (local.get $pb)))
                (local.set $s0 (f64.add (f64.mul (f64.load (local.get $pa)) (local.get $bkj)) (local.get $s0)))
                (local.set $pa (i32.add (local.get $pa) (local.get $aDepth)))
                (local.set $pb (i32.add (local.get $pb) (local.get $bRow)))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $k_step)))
            ;; ReLU: max(sum, 0) when relu ≠ 0 (f64x2.pmax(0, s) is 0 < s ? s : 0, lane by lane)
            (if (local.get $relu)
              (then
                (local.set $s0 (select (local.get $s0) (f64.const 0) (f64.gt (local.get $s0) (f64.const 0))))))
            ;; store the tile
            (local.set $pc (i32.add (i32.add (local.get $c) (i32.mul (local.get $r) (local.get $cRow))) (local.get $jBytes)))
            (f64.store (local.get $pc) (local.get $s0))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows1))))

  ;; mask(delta, activation, count)
  ;;
  ;; delta[i] = activation[i] > 0 ? delta[i] : 0 for i < count (float64
  ;; arrays at those byte addresses): backpropagation through a ReLU. Two
  ;; values per step (the comparison's all-ones or all-zeros lanes select by
  ;; a bitwise and), then the odd last one.
  (func (export "mask")
    (param $delta i32) (param $activation i32) (param $count i32)
    (local $i i32) (local $pd i32) (local $pa i32)
    (local.set $i (i32.const 0))
    (local.set $pd (local.get $delta))
    (local.set $pa (local.get $activation))
    (block $pairs_done
      (loop $pairs
        (br_if $pairs_done (i32.eqz (i32.le_s (i32.add (local.get $i) (i32.const 2)) (local.get $count))))
        (v128.store (local.get $pd) (v128.and (v128.load (local.get $pd)) (f64x2.gt (v128.load (local.get $pa)) (v128.const i64x2 0 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (local.set $pd (i32.add (local.get $pd) (i32.const 16)))
        (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
        (br $pairs)))
    (if (i32.lt_s (local.get $i) (local.get $count))
      (then
        (f64.store (local.get $pd) (select (f64.load (local.get $pd)) (f64.const 0) (f64.gt (f64.load (local.get $pa)) (f64.const 0)))))))
)
