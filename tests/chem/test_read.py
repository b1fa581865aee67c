"""Reading structures: every format, and errors a chemist can act on."""

import pytest
from rdkit import Chem

from chem.errors import StructureError
from chem.read import MAX_HEAVY_ATOMS, detect_format, iter_sdf, read_structure

MORPHINE = "CN1CC[C@]23c4c5ccc(O)c4O[C@H]2[C@@H](O)C=C[C@H]3[C@H]1C5"


def _canonical(mol):
    return Chem.MolToSmiles(mol)


def test_smiles_inchi_and_molfiles_read_the_same_molecule():
    mol = Chem.MolFromSmiles(MORPHINE)
    inchi = Chem.MolToInchi(mol)
    v2000 = Chem.MolToMolBlock(mol)
    v3000 = Chem.MolToV3KMolBlock(mol)
    expected = _canonical(mol)
    assert _canonical(read_structure(MORPHINE)) == expected
    assert _canonical(read_structure(inchi)) == expected
    assert _canonical(read_structure(v2000)) == expected
    assert "V3000" in v3000 and _canonical(read_structure(v3000)) == expected
    assert detect_format(inchi) == "inchi" and detect_format(v3000) == "molfile"


def test_smiles_followed_by_a_name_reads_the_structure():
    assert _canonical(read_structure("CN1CCC[C@H]1c1cccnc1 nicotine")) == "CN1CCC[C@H]1c1cccnc1"


@pytest.mark.parametrize(
    ("text", "code", "words"),
    [
        ("", "empty", "empty"),
        ("   ", "empty", "empty"),
        ("CC(C)(C)(C)C", "valence", "atom 2 (C)"),
        ("C[N](C)(C)(C)C", "valence", "atom 2 (N)"),
        ("c1cccc1", "aromaticity", "kekulized"),
        ("CC[Xq]", "unknown_element", "'Xq'"),
        ("C1CC(C", "syntax", "parentheses"),
        ("C1CC", "syntax", "unclosed ring"),
        ("InChI=1S/nonsense", "syntax", "InChI"),
        ("C" * 20_000, "too_large", "characters"),
        ("C" * (MAX_HEAVY_ATOMS + 1), "too_large", "heavy atoms"),
    ],
)
def test_unreadable_input_names_the_problem(text, code, words):
    with pytest.raises(StructureError) as caught:
        read_structure(text)
    assert caught.value.code == code
    assert words in str(caught.value)


def test_molfile_with_bad_valence_names_the_atom():
    block = Chem.MolToMolBlock(Chem.MolFromSmiles("CCO"))
    # turn the oxygen (atom 3) into a pentavalent carbon-bonded oxygen by adding bonds
    lines = block.splitlines()
    counts = lines[3]
    lines[3] = f"{int(counts[:3]) + 2:3d}{int(counts[3:6]) + 2:3d}" + counts[6:]
    atom_line = "    0.0000    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0"
    insert_at = 4 + 3
    lines[insert_at:insert_at] = [atom_line, atom_line]
    bond_start = insert_at + 2 + 2
    lines[bond_start:bond_start] = ["  3  4  1  0", "  3  5  1  0"]
    with pytest.raises(StructureError) as caught:
        read_structure("\n".join(lines) + "\n")
    assert caught.value.code == "valence"
    assert "atom 3 (O)" in str(caught.value)


def test_sdf_records_are_read_one_by_one_and_a_bad_record_spares_the_rest():
    good = Chem.MolToMolBlock(Chem.MolFromSmiles("CNC(C)Cc1ccccc1"))
    text = (
        "methamphetamine\n" + good.split("\n", 1)[1] + "> <name>\nmethamphetamine\n\n$$$$\n"
        "broken\n  no atoms here\n\n$$$$\n"
        + Chem.MolToMolBlock(Chem.MolFromSmiles("CC(=O)Nc1ccc(O)cc1"))
        + "> <name>\nparacetamol\n\n$$$$\n"
    )
    records = list(iter_sdf(text))
    assert [r.index for r in records] == [0, 1, 2]
    assert records[0].properties["name"] == "methamphetamine" and records[0].mol is not None
    assert records[1].error is not None and records[1].mol is None
    assert records[2].properties["name"] == "paracetamol"
    assert Chem.MolToSmiles(records[2].mol) == "CC(=O)Nc1ccc(O)cc1"
