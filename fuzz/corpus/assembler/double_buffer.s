; two cores: core 1 streams tiles from HBM and multiplies them
.equ TILE, 0x2000
.core 1
li r1, 0
li r2, 0
loop 4
  wait dma, 1
  dma.copy spm[r2], hbm[r1], 64, 128, 128, 128
  signal dma, 0
  wait matrix, 0
  mma spm[0x8000], spm[r2], spm[TILE], 64, 64, 64, bf16, accumulate
  signal matrix, 1
  addi r1, r1, 0x2000
  muli r2, r2, -1
  addi r2, r2, TILE
endloop
barrier
.core 0
barrier
