#!/usr/bin/env python3
"""Label agreement of two `clasifica classify --format csv` outputs of the
same photos: how many get the same top label, and the largest difference
of the top-1 probability.

  tools/device/agree.py A.csv B.csv NAME
"""
import csv,sys
def load(f):
    return {r['path']:r for r in csv.DictReader(open(f)) if not r['error']}
a,b=load(sys.argv[1]),load(sys.argv[2])
both=[p for p in a if p in b]
if not both:
    sys.exit("%s: no photo classified in both" % sys.argv[3])
same=sum(1 for p in a if p in b and a[p]['top1']==b[p]['top1'])
d=max(abs(float(a[p]['top1_probability'])-float(b[p]['top1_probability'])) for p in a if p in b)
print("%s: same label on %d of %d photos (%d compared), largest top-1 probability difference %.2g"%(sys.argv[3],same,len(a),len([p for p in a if p in b]),d))
