fn main() {}

#[playhouse::test]
async fn adds(left: u32, right: u32) {
    assert_eq!(left + right, 2);
}
