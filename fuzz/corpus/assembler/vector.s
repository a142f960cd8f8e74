vfill spm[0], -0.5, 4, 4, f32          # comments either way
vunary gelu, spm[0x40], spm[0], 4, 4, f32
vbinary max, spm[0x80], spm[0x40], spm[0], 4, 4, f32, row
vreduce sum, spm[0xc0], spm[0x80], 4, 4, f32
vconvert spm[0x100], bf16, spm[0x80], f32, 4, 4, stochastic, r7
vtranspose spm[0x200], spm[0x100], 4, 4, bf16
vgather spm[0x300], spm[0x400], spm[0x500], 2, 4, 8, f16
vscatter_add spm[0x400], spm[0x500], spm[0x300], 2, 4, 8, f16
vfill spm[r3-8], nan(0x7f800001), 1, 1, f32
dma.copy3d spm@2[0], l2[r4+64], 2, 3, 16, 16, 32, 48, 96
