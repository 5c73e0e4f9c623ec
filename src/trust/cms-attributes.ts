import { AsnArray, AsnConvert, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { Attribute } from '@peculiar/asn1-cms';

/**
 * CMS signs the signed attributes as a DER `SET OF Attribute` (RFC 5652 §5.4), although
 * they travel in the SignerInfo with an implicit [0] tag. This is that SET.
 */
export class SignedAttributesSet extends AsnArray<Attribute> {
  constructor(items?: Attribute[]) {
    super(items);
    Object.setPrototypeOf(this, SignedAttributesSet.prototype);
  }
}
// Applied as a call rather than with decorator syntax: the project compiles without
// experimentalDecorators, and this is the legacy class decorator asn1-schema ships.
AsnType({ type: AsnTypeTypes.Set, itemType: Attribute })(SignedAttributesSet);

/**
 * The attributes in DER order (a SET OF is sorted by each element's encoding) and the
 * bytes a signature covers. asn1-schema keeps the given order, so the sorting is ours.
 */
export function encodeSignedAttributes(attrs: Attribute[]): { sorted: Attribute[]; der: Buffer } {
  const encoded = attrs.map((a) => ({ a, der: Buffer.from(AsnConvert.serialize(a)) }));
  encoded.sort((x, y) => Buffer.compare(x.der, y.der));
  const sorted = encoded.map((e) => e.a);
  return { sorted, der: encodeAttributeSet(sorted) };
}

/**
 * The SET exactly in the order given. A verifier uses the order it received: asn1-schema
 * keeps neither the raw [0] bytes nor reorders, and each value is kept as raw DER, so
 * this reproduces the bytes the signer signed.
 */
export function encodeAttributeSet(attrs: Attribute[]): Buffer {
  return Buffer.from(AsnConvert.serialize(new SignedAttributesSet(attrs)));
}
