;; Kernels of the GBDT tree grower (tree-grower.ts): histogram building and leaf
;; partitioning. Assembled by `npm run build:kernels` into
;; tree-grower.wasm.generated.ts; tree-grower.ts runs the same arithmetic in
;; JavaScript when its buffers do not fit WebAssembly memory, and the two must
;; give the same trees bit for bit (gbdt.test.ts, tree-grower.test.ts).
;;
;; Memory (imported as env.memory, laid out by tree-grower.ts; every address
;; below is a byte address in it):
;; - the binned training matrix, column-major, one u8 bin per value:
;;   feature f's column starts at `binned + f * rows`;
;; - the row permutation: u32 row indices; a leaf owns a contiguous range;
;; - the pairs: per place i of the permutation, the (gradient, hessian) of row
;;   index[i] as two float32 (8 bytes), moved along with the index;
;; - histograms: per feature, per bin, three float64 (24 bytes): gradient sum,
;;   hessian sum, row count;
;; - partition scratch: room for the smaller side of a split (indices, pairs).
;;
;; The histogram kernels come in variants for 1 to 4 features: one pass over a
;; leaf's rows fills the histograms of up to 4 features, so each row's index
;; and pair are loaded, and the pair widened to float64, once per 4 features.
;; The features' histograms are disjoint, so every bin still receives its rows
;; in row order: the same float64 additions in the same order as the
;; JavaScript fallback (which goes one feature at a time).
(module
  (import "env" "memory" (memory 1))

  ;; histogramK(count, index, pairs, c0, c1, c2, c3, o0, o1, o2, o3), K = 1 … 4
  ;;
  ;; Adds `count` rows to the histograms of K features. `index` points at the
  ;; rows' u32 indices, `pairs` at their (gradient, hessian) float32 pairs,
  ;; `cK` at feature K's column of the binned matrix and `oK` at its
  ;; histogram. The variant for K features reads c0 … c(K-1), o0 … o(K-1) and
  ;; ignores the rest. Per row:
  ;;   pair = float64x2(gradient, hessian)
  ;;   per feature: at = o + 24 * binned[c + row]
  ;;                (sum gradient, sum hessian) at `at` += pair   (one SIMD addition)
  ;;                count at `at + 16` += 1
  (func (export "histogram1")
    (param $count i32) (param $index i32) (param $pairs i32)
    (param $c0 i32) (param $c1 i32) (param $c2 i32) (param $c3 i32)
    (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32)
    (local $end i32) (local $row i32) (local $at i32) (local $pair v128)
    (local.set $end (i32.add (local.get $pairs) (i32.shl (local.get $count) (i32.const 3))))
    (block $done
      (loop $rows
        (br_if $done (i32.eqz (i32.lt_u (local.get $pairs) (local.get $end))))
        (local.set $row (i32.load (local.get $index)))
        (local.set $pair (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pairs))))
        ;; feature 0
        (local.set $at (i32.add (local.get $o0) (i32.mul (i32.load8_u (i32.add (local.get $c0) (local.get $row))) (i32.const 24))))
        (v128.store align=8 (local.get $at) (f64x2.add (v128.load align=8 (local.get $at)) (local.get $pair)))
        (f64.store offset=16 (local.get $at) (f64.add (f64.load offset=16 (local.get $at)) (f64.const 1)))
        ;; next row
        (local.set $index (i32.add (local.get $index) (i32.const 4)))
        (local.set $pairs (i32.add (local.get $pairs) (i32.const 8)))
        (br $rows))))

  (func (export "histogram2")
    (param $count i32) (param $index i32) (param $pairs i32)
    (param $c0 i32) (param $c1 i32) (param $c2 i32) (param $c3 i32)
    (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32)
    (local $end i32) (local $row i32) (local $at i32) (local $pair v128)
    (local.set $end (i32.add (local.get $pairs) (i32.shl (local.get $count) (i32.const 3))))
    (block $done
      (loop $rows
        (br_if $done (i32.eqz (i32.lt_u (local.get $pairs) (local.get $end))))
        (local.set $row (i32.load (local.get $index)))
        (local.set $pair (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pairs))))
        ;; feature 0
        (local.set $at (i32.add (local.get $o0) (i32.mul (i32.load8_u (i32.add (local.get $c0) (local.get $row))) (i32.const 24))))
        (v128.store align=8 (local.get $at) (f64x2.add (v128.load align=8 (local.get $at)) (local.get $pair)))
        (f64.store offset=16 (local.get $at) (f64.add (f64.load offset=16 (local.get $at)) (f64.const 1)))
        ;; feature 1
        (local.set $at (i32.add (local.get $o1) (i32.mul (i32.load8_u (i32.add (local.get $c1) (local.get $row))) (i32.const 24))))
        (v128.store align=8 (local.get $at) (f64x2.add (v128.load align=8 (local.get $at)) (local.get $pair)))
        (f64.store offset=16 (local.get $at) (f64.add (f64.load offset=16 (local.get $at)) (f64.const 1)))
        ;; next row
        (local.set $index (i32.add (local.get $index) (i32.const 4)))
        (local.set $pairs (i32.add (local.get $pairs) (i32.const 8)))
        (br $rows))))

  (func (export "histogram3")
    (param $count i32) (param $index i32) (param $pairs i32)
    (param $c0 i32) (param $c1 i32) (param $c2 i32) (param $c3 i32)
    (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32)
    (local $end i32) (local $row i32) (local $at i32) (local $pair v128)
    (local.set $end (i32.add (local.get $pairs) (i32.shl (local.get $count) (i32.const 3))))
    (block $done
      (loop $rows
        (br_if $done (i32.eqz (i32.lt_u (local.get $pairs) (local.get $end))))
        (local.set $row (i32.load (local.get $index)))
        (local.set $pair (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pairs))))
        ;; feature 0
        (local.set $at (i32.add (local.get $o0) (i32.mul (i32.load8_u (i32.add (local.get $c0) (local.get $row))) (i32.const 24))))
        (v128.store align=8 (local.get $at) (f64x2.add (v128.load align=8 (local.get $at)) (local.get $pair)))
        (f64.store offset=16 (local.get $at) (f64.add (f64.load offset=16 (local.get $at)) (f64.const 1)))
        ;; feature 1
        (local.set $at (i32.add (local.get $o1) (i32.mul (i32.load8_u (i32.add (local.get $c1) (local.get $row))) (i32.const 24))))
        (v128.store align=8 (local.get $at) (f64x2.add (v128.load align=8 (local.get $at)) (local.get $pair)))
        (f64.store offset=16 (local.get $at) (f64.add (f64.load offset=16 (local.get $at)) (f64.const 1)))
        ;; feature 2
        (local.set $at (i32.add (local.get $o2) (i32.mul (i32.load8_u (i32.add (local.get $c2) (local.get $row))) (i32.const 24))))
        (v128.store align=8 (local.get $at) (f64x2.add (v128.load align=8 (local.get $at)) (local.get $pair)))
        (f64.store offset=16 (local.get $at) (f64.add (f64.load offset=16 (local.get $at)) (f64.const 1)))
        ;; next row
        (local.set $index (i32.add (local.get $index) (i32.const 4)))
        (local.set $pairs (i32.add (local.get $pairs) (i32.const 8)))
        (br $rows))))

  (func (export "histogram4")
    (param $count i32) (param $index i32) (param $pairs i32)
    (param $c0 i32) (param $c1 i32) (param $c2 i32) (param $c3 i32)
    (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32)
    (local $end i32) (local $row i32) (local $at i32) (local $pair v128)
    (local.set $end (i32.add (local.get $pairs) (i32.shl (local.get $count) (i32.const 3))))
    (block $done
      (loop $rows
        (br_if $done (i32.eqz (i32.lt_u (local.get $pairs) (local.get $end))))
        (local.set $row (i32.load (local.get $index)))
        (local.set $pair (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pairs))))
        ;; feature 0
        (local.set $at (i32.add (local.get $o0) (i32.mul (i32.load8_u (i32.add (local.get $c0) (local.get $row))) (i32.const 24))))
        (v128.store align=8 (local.get $at) (f64x2.add (v128.load align=8 (local.get $at)) (local.get $pair)))
        (f64.store offset=16 (local.get $at) (f64.add (f64.load offset=16 (local.get $at)) (f64.const 1)))
        ;; feature 1
        (local.set $at (i32.add (local.get $o1) (i32.mul (i32.load8_u (i32.add (local.get $c1) (local.get $row))) (i32.const 24))))
        (v128.store align=8 (local.get $at) (f64x2.add (v128.load align=8 (local.get $at)) (local.get $pair)))
        (f64.store offset=16 (local.get $at) (f64.add (f64.load offset=16 (local.get $at)) (f64.const 1)))
        ;; feature 2
        (local.set $at (i32.add (local.get $o2) (i32.mul (i32.load8_u (i32.add (local.get $c2) (local.get $row))) (i32.const 24))))
        (v128.store align=8 (local.get $at) (f64x2.add (v128.load align=8 (local.get $at)) (local.get $pair)))
        (f64.store offset=16 (local.get $at) (f64.add (f64.load offset=16 (local.get $at)) (f64.const 1)))
        ;; feature 3
        (local.set $at (i32.add (local.get $o3) (i32.mul (i32.load8_u (i32.add (local.get $c3) (local.get $row))) (i32.const 24))))
        (v128.store align=8 (local.get $at) (f64x2.add (v128.load align=8 (local.get $at)) (local.get $pair)))
        (f64.store offset=16 (local.get $at) (f64.add (f64.load offset=16 (local.get $at)) (f64.const 1)))
        ;; next row
        (local.set $index (i32.add (local.get $index) (i32.const 4)))
        (local.set $pairs (i32.add (local.get $pairs) (i32.const 8)))
        (br $rows))))

  ;; rootK(count, index, pairs, c0, c1, c2, c3, o0, o1, o2, o3), K = 1 … 4
  ;;
  ;; histogramK for the root of a tree: the rows are 0 … count − 1 in order
  ;; (`index` is ignored) and the counts are left alone: they are the same for
  ;; every root, and tree-grower.ts copies them in.
  (func (export "root1")
    (param $count i32) (param $index i32) (param $pairs i32)
    (param $c0 i32) (param $c1 i32) (param $c2 i32) (param $c3 i32)
    (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32)
    (local $end i32) (local $row i32) (local $at i32) (local $pair v128)
    (local.set $end (i32.add (local.get $pairs) (i32.shl (local.get $count) (i32.const 3))))
    (local.set $row (i32.const 0))
    (block $done
      (loop $rows
        (br_if $done (i32.eqz (i32.lt_u (local.get $pairs) (local.get $end))))
        (local.set $pair (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pairs))))
        ;; feature 0
        (local.set $at (i32.add (local.get $o0) (i32.mul (i32.load8_u (i32.add (local.get $c0) (local.get $row))) (i32.const 24))))
        (v128.store align=8 (local.get $at) (f64x2.add (v128.load align=8 (local.get $at)) (local.get $pair)))
        ;; next row
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (local.set $pairs (i32.add (local.get $pairs) (i32.const 8)))
        (br $rows))))

  (func (export "root2")
    (param $count i32) (param $index i32) (param $pairs i32)
    (param $c0 i32) (param $c1 i32) (param $c2 i32) (param $c3 i32)
    (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32)
    (local $end i32) (local $row i32) (local $at i32) (local $pair v128)
    (local.set $end (i32.add (local.get $pairs) (i32.shl (local.get $count) (i32.const 3))))
    (local.set $row (i32.const 0))
    (block $done
      (loop $rows
        (br_if $done (i32.eqz (i32.lt_u (local.get $pairs) (local.get $end))))
        (local.set $pair (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pairs))))
        ;; feature 0
        (local.set $at (i32.add (local.get $o0) (i32.mul (i32.load8_u (i32.add (local.get $c0) (local.get $row))) (i32.const 24))))
        (v128.store align=8 (local.get $at) (f64x2.add (v128.load align=8 (local.get $at)) (local.get $pair)))
        ;; feature 1
        (local.set $at (i32.add (local.get $o1) (i32.mul (i32.load8_u (i32.add (local.get $c1) (local.get $row))) (i32.const 24))))
        (v128.store align=8 (local.get $at) (f64x2.add (v128.load align=8 (local.get $at)) (local.get $pair)))
        ;; next row
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (local.set $pairs (i32.add (local.get $pairs) (i32.const 8)))
        (br $rows))))

  (func (export "root3")
    (param $count i32) (param $index i32) (param $pairs i32)
    (param $c0 i32) (param $c1 i32) (param $c2 i32) (param $c3 i32)
    (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32)
    (local $end i32) (local $row i32) (local $at i32) (local $pair v128)
    (local.set $end (i32.add (local.get $pairs) (i32.shl (local.get $count) (i32.const 3))))
    (local.set $row (i32.const 0))
    (block $done
      (loop $rows
        (br_if $done (i32.eqz (i32.lt_u (local.get $pairs) (local.get $end))))
        (local.set $pair (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pairs))))
        ;; feature 0
        (local.set $at (i32.add (local.get $o0) (i32.mul (i32.load8_u (i32.add (local.get $c0) (local.get $row))) (i32.const 24))))
        (v128.store align=8 (local.get $at) (f64x2.add (v128.load align=8 (local.get $at)) (local.get $pair)))
        ;; feature 1
        (local.set $at (i32.add (local.get $o1) (i32.mul (i32.load8_u (i32.add (local.get $c1) (local.get $row))) (i32.const 24))))
        (v128.store align=8 (local.get $at) (f64x2.add (v128.load align=8 (local.get $at)) (local.get $pair)))
        ;; feature 2
        (local.set $at (i32.add (local.get $o2) (i32.mul (i32.load8_u (i32.add (local.get $c2) (local.get $row))) (i32.const 24))))
        (v128.store align=8 (local.get $at) (f64x2.add (v128.load align=8 (local.get $at)) (local.get $pair)))
        ;; next row
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (local.set $pairs (i32.add (local.get $pairs) (i32.const 8)))
        (br $rows))))

  (func (export "root4")
    (param $count i32) (param $index i32) (param $pairs i32)
    (param $c0 i32) (param $c1 i32) (param $c2 i32) (param $c3 i32)
    (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32)
    (local $end i32) (local $row i32) (local $at i32) (local $pair v128)
    (local.set $end (i32.add (local.get $pairs) (i32.shl (local.get $count) (i32.const 3))))
    (local.set $row (i32.const 0))
    (block $done
      (loop $rows
        (br_if $done (i32.eqz (i32.lt_u (local.get $pairs) (local.get $end))))
        (local.set $pair (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pairs))))
        ;; feature 0
        (local.set $at (i32.add (local.get $o0) (i32.mul (i32.load8_u (i32.add (local.get $c0) (local.get $row))) (i32.const 24))))
        (v128.store align=8 (local.get $at) (f64x2.add (v128.load align=8 (local.get $at)) (local.get $pair)))
        ;; feature 1
        (local.set $at (i32.add (local.get $o1) (i32.mul (i32.load8_u (i32.add (local.get $c1) (local.get $row))) (i32.const 24))))
        (v128.store align=8 (local.get $at) (f64x2.add (v128.load align=8 (local.get $at)) (local.get $pair)))
        ;; feature 2
        (local.set $at (i32.add (local.get $o2) (i32.mul (i32.load8_u (i32.add (local.get $c2) (local.get $row))) (i32.const 24))))
        (v128.store align=8 (local.get $at) (f64x2.add (v128.load align=8 (local.get $at)) (local.get $pair)))
        ;; feature 3
        (local.set $at (i32.add (local.get $o3) (i32.mul (i32.load8_u (i32.add (local.get $c3) (local.get $row))) (i32.const 24))))
        (v128.store align=8 (local.get $at) (f64x2.add (v128.load align=8 (local.get $at)) (local.get $pair)))
        ;; next row
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (local.set $pairs (i32.add (local.get $pairs) (i32.const 8)))
        (br $rows))))

  ;; forwards(count, index, pairs, column, bin, scratchIndex, scratchPairs)
  ;;
  ;; One step of a stable partition of `count` rows by `binned[column + row] <= bin`
  ;; when the right side is the smaller: reads the rows from the first up
  ;; (`index`, `pairs` point at the first), compacts the left rows in place
  ;; from `index`/`pairs`, and writes every row to `scratchIndex`/`scratchPairs`,
  ;; advancing there only past right rows (which tree-grower.ts then copies
  ;; back after the left ones). Branch-free: rows go either way at random, and
  ;; a branch would mispredict half the time. A pair is moved as one i64.
  (func (export "forwards")
    (param $count i32) (param $index i32) (param $pairs i32) (param $column i32)
    (param $bin i32) (param $scratchIndex i32) (param $scratchPairs i32)
    (local $row i32) (local $toLeft i32) (local $kept i32) (local $keptPairs i32) (local $pair i64)
    (local.set $kept (local.get $index))
    (local.set $keptPairs (local.get $pairs))
    (block $done
      (loop $rows
        (br_if $done (i32.eqz (local.get $count)))
        (local.set $row (i32.load (local.get $index)))
        (local.set $pair (i64.load (local.get $pairs)))
        (local.set $toLeft (i32.le_u (i32.load8_u (i32.add (local.get $column) (local.get $row))) (local.get $bin)))
        ;; write the row to both sides, then advance the side it belongs to
        (i32.store (local.get $kept) (local.get $row))
        (i64.store (local.get $keptPairs) (local.get $pair))
        (i32.store (local.get $scratchIndex) (local.get $row))
        (i64.store (local.get $scratchPairs) (local.get $pair))
        (local.set $kept (i32.add (local.get $kept) (i32.shl (local.get $toLeft) (i32.const 2))))
        (local.set $keptPairs (i32.add (local.get $keptPairs) (i32.shl (local.get $toLeft) (i32.const 3))))
        (local.set $scratchIndex (i32.add (local.get $scratchIndex) (i32.shl (i32.sub (i32.const 1) (local.get $toLeft)) (i32.const 2))))
        (local.set $scratchPairs (i32.add (local.get $scratchPairs) (i32.shl (i32.sub (i32.const 1) (local.get $toLeft)) (i32.const 3))))
        ;; next row
        (local.set $index (i32.add (local.get $index) (i32.const 4)))
        (local.set $pairs (i32.add (local.get $pairs) (i32.const 8)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $rows))))

  ;; backwards(count, index, pairs, column, bin, scratchIndex, scratchPairs)
  ;;
  ;; The mirror of `forwards` when the left side is the smaller: reads the
  ;; rows from the last down (`index`, `pairs` point at the last), compacts
  ;; the right rows in place from the end, and writes every row to
  ;; `scratchIndex`/`scratchPairs` (which start at the last left row's slot),
  ;; moving down there only past left rows.
  (func (export "backwards")
    (param $count i32) (param $index i32) (param $pairs i32) (param $column i32)
    (param $bin i32) (param $scratchIndex i32) (param $scratchPairs i32)
    (local $row i32) (local $toLeft i32) (local $kept i32) (local $keptPairs i32) (local $pair i64)
    (local.set $kept (local.get $index))
    (local.set $keptPairs (local.get $pairs))
    (block $done
      (loop $rows
        (br_if $done (i32.eqz (local.get $count)))
        (local.set $row (i32.load (local.get $index)))
        (local.set $pair (i64.load (local.get $pairs)))
        (local.set $toLeft (i32.le_u (i32.load8_u (i32.add (local.get $column) (local.get $row))) (local.get $bin)))
        ;; write the row to both sides, then move down the side it belongs to
        (i32.store (local.get $kept) (local.get $row))
        (i64.store (local.get $keptPairs) (local.get $pair))
        (i32.store (local.get $scratchIndex) (local.get $row))
        (i64.store (local.get $scratchPairs) (local.get $pair))
        (local.set $kept (i32.sub (local.get $kept) (i32.shl (i32.sub (i32.const 1) (local.get $toLeft)) (i32.const 2))))
        (local.set $keptPairs (i32.sub (local.get $keptPairs) (i32.shl (i32.sub (i32.const 1) (local.get $toLeft)) (i32.const 3))))
        (local.set $scratchIndex (i32.sub (local.get $scratchIndex) (i32.shl (local.get $toLeft) (i32.const 2))))
        (local.set $scratchPairs (i32.sub (local.get $scratchPairs) (i32.shl (local.get $toLeft) (i32.const 3))))
        ;; previous row
        (local.set $index (i32.sub (local.get $index) (i32.const 4)))
        (local.set $pairs (i32.sub (local.get $pairs) (i32.const 8)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $rows))))
)
