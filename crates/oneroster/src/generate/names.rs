//! Japanese names and their readings for generated rosters, including characters that break
//! careless software: 𠮷 (U+20BB7, outside the BMP), 髙 and 﨑 (variant forms).

/// (family name, reading in full-width katakana)
pub const FAMILY: &[(&str, &str)] = &[
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("𠮷田", "ヨシダ"),
    ("髙橋", "タカハシ"),
    ("山﨑", "ヤマザキ"),
    ("齋藤", "サイトウ"),
    ("渡邉", "ワタナベ"),
];

/// (given name, reading)
pub const GIVEN: &[(&str, &str)] = &[
    ("蓮", "レン"),
    ("陽翔", "ハルト"),
    ("湊", "ミナト"),
    ("悠真", "ユウマ"),
    ("大翔", "ヒロト"),
    ("翔太", "ショウタ"),
    ("太郎", "タロウ"),
    ("陽葵", "ヒマリ"),
    ("凛", "リン"),
    ("結衣", "ユイ"),
    ("葵", "アオイ"),
    ("美咲", "ミサキ"),
    ("花子", "ハナコ"),
    ("芽依", "メイ"),
    ("さくら", "サクラ"),
    ("ひなた", "ヒナタ"),
];

/// Subjects taught as scheduled classes: (title, subject code).
pub const SUBJECTS: &[(&str, &str)] = &[
    ("国語", "kokugo"),
    ("算数", "sansu"),
    ("理科", "rika"),
    ("社会", "shakai"),
    ("英語", "eigo"),
    ("音楽", "ongaku"),
];
