li r16, 1
addi r1, r2
mmaa spm[0], spm[0], spm[0], 1, 1, 1, bf16, overwrite
.core 70000
